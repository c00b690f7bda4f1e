// SESSIONS.md §10: model display names (the worked table), default windows and agent types.
import { describe, expect, test } from "bun:test";
import { defaultContextWindow, mapAgentType, modelDisplayName, normaliseModelId } from "../../src/registry/models.ts";

describe("§10.1 model display name", () => {
  test.each<[string | undefined, string | undefined, string]>([
    ["claude-opus-4-5-20251101", "Opus 4.5", "Opus 4.5"],
    ["claude-opus-4-6", undefined, "Opus 4.6"],
    ["claude-opus-4-6[1m]", undefined, "Opus 4.6"],
    ["claude-sonnet-4-20250514", undefined, "Sonnet 4"],
    ["claude-sonnet-4-6", undefined, "Sonnet 4.6"],
    ["claude-sonnet-4-5-20250929[1m]", undefined, "Sonnet 4.5"],
    ["claude-opus-4-7-20260501", undefined, "Opus 4.7"],
    ["claude-opus-4-7-20260501", "Claude Opus 4.7 (new)", "Opus 4.7"],
    ["claude-opus-4-1-20250805", "Opus 4.1", "Opus 4.1"],
    ["claude-haiku-4-5-20251001", undefined, "Haiku 4.5"],
    ["claude-3-5-sonnet-20241022", undefined, "Sonnet 3.5 v2"],
    ["claude-3-5-haiku-latest", undefined, "Haiku 3.5"],
    ["claude-3-7-sonnet-20250219", "Claude 3.7 Sonnet", "Sonnet 3.7"],
    ["claude-3-opus-20240229", undefined, "Opus 3"],
    ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", undefined, "Sonnet 4.5"],
    ["anthropic.claude-3-5-sonnet-20241022-v2:0", undefined, "Sonnet 3.5 v2"],
    ["claude-sonnet-4-5@20250929", undefined, "Sonnet 4.5"],
    ["claude-opus-4-1@20250805", undefined, "Opus 4.1"],
    ["claude-fable-5", undefined, "Fable 5"],
    ["claude-opus-4-7-20260501[1M]", undefined, "Opus 4.7"],
    ["gpt-4o", "GPT-4o", "GPT-4o"],
    ["gpt-4o", "", ""],
    ["gpt-4o", undefined, "gpt-4o"],
    ["deepseek-chat-20250101", undefined, "deepseek-chat"],
    ["-20250101", undefined, "-20250101"],
    ["claude-instant-1.2", undefined, "claude-instant-1.2"],
    ["claude-Opus-4", undefined, "claude-Opus-4"],
    ["claude-opus-123", "X", "X"],
    ["", "Named", "Unknown"],
    ["", undefined, "Unknown"],
    [undefined, undefined, "Unknown"],
  ])("%p (%p) -> %p", (id, name, want) => {
    expect(modelDisplayName(id, name)).toBe(want);
  });

  test("normalisation", () => {
    expect(normaliseModelId("us.anthropic.claude-opus-4-6-v1[1m]")).toBe("claude-opus-4-6-v1");
    expect(normaliseModelId("claude-x@y@z")).toBe("claude-x");
  });
});

describe("§10.2 default context window", () => {
  test.each<[string | undefined, number]>([
    ["claude-opus-4-6[1m]", 1_000_000], ["claude-opus-4-6[1M]", 1_000_000], ["claude-opus-4-6", 200_000],
    [undefined, 200_000], ["", 200_000],
  ])("%p -> %p", (id, want) => {
    expect(defaultContextWindow(id)).toBe(want);
  });
});

describe("§10.3 agent types", () => {
  test.each<[string | undefined, string]>([
    ["general-purpose", "main"], ["general_purpose", "main"], ["General-Purpose", "main"],
    ["explore", "explore"], ["Explorer", "explore"], ["plan", "plan"], ["PLANNER", "plan"],
    ["code-reviewer", "review"], ["code_reviewer", "review"], ["CodeReview", "review"],
    ["file-search", "search"], ["file_search", "search"], ["FileSearch", "search"],
    [undefined, "main"], ["db-migrator", "db-migrator"], ["DB-Migrator", "DB-Migrator"],
    ["constructor", "constructor"], ["__proto__", "__proto__"],
  ])("%p -> %p", (input, want) => {
    expect(mapAgentType(input)).toBe(want);
  });
});
