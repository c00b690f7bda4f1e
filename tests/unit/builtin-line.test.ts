import { describe, expect, test } from "bun:test";
import { builtinLine } from "../../src/integration/builtin-line.ts";
// The built-in line uses the registry's formatting; these tables re-check the parts it relies on.
import { contextPercentage, costDisplay, costMicros, toFixedEven } from "../../src/registry/format.ts";
import { modelDisplayName } from "../../src/registry/models.ts";

describe("toFixedEven (SESSIONS.md §9.1)", () => {
  test.each([
    [21.25, 1, "21.2"],
    [0.125, 2, "0.12"],
    [1.25, 1, "1.2"],
    [150.5, 0, "150"],
    [0.375, 2, "0.38"],
    [2.675, 2, "2.67"],
    [151.5, 0, "152"],
    [-0.125, 2, "-0.12"],
    [4.999499999999999, 1, "5.0"],
  ])("%p to %p", (x, d, want) => {
    expect(toFixedEven(x, d)).toBe(want);
  });
});

describe("model display name (SESSIONS.md §10.1)", () => {
  test.each([
    ["claude-opus-4-5-20251101", "Opus 4.5", "Opus 4.5"],
    ["claude-opus-4-6", undefined, "Opus 4.6"],
    ["claude-opus-4-6[1m]", undefined, "Opus 4.6"],
    ["claude-sonnet-4-20250514", undefined, "Sonnet 4"],
    ["claude-sonnet-4-6", undefined, "Sonnet 4.6"],
    ["claude-sonnet-4-5-20250929[1m]", undefined, "Sonnet 4.5"],
    ["claude-opus-4-7-20260501", undefined, "Opus 4.7"],
    ["claude-opus-4-1-20250805", "Opus 4.1", "Opus 4.1"],
    ["claude-haiku-4-5-20251001", undefined, "Haiku 4.5"],
    ["claude-3-5-sonnet-20241022", undefined, "Sonnet 3.5 v2"],
    ["claude-3-5-haiku-latest", undefined, "Haiku 3.5"],
    ["claude-3-7-sonnet-20250219", "Claude 3.7 Sonnet", "Sonnet 3.7"],
    ["claude-3-opus-20240229", undefined, "Opus 3"],
    ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", undefined, "Sonnet 4.5"],
    ["anthropic.claude-3-5-sonnet-20241022-v2:0", undefined, "Sonnet 3.5 v2"],
    ["claude-sonnet-4-5@20250929", undefined, "Sonnet 4.5"],
    ["claude-fable-5", undefined, "Fable 5"],
    ["gpt-4o", "GPT-4o", "GPT-4o"],
    ["gpt-4o", "", ""],
    ["gpt-4o", undefined, "gpt-4o"],
    ["deepseek-chat-20250101", undefined, "deepseek-chat"],
    ["", undefined, "Unknown"],
  ] as [string, string | undefined, string][])("%p (%p)", (id, dn, want) => {
    expect(modelDisplayName(id, dn)).toBe(want);
  });
});

describe("context and cost (SESSIONS.md §9.2, §9.3)", () => {
  test.each([
    [43_000, 200_000, "21.5"],
    [42_500, 200_000, "21.2"],
    [0, 200_000, "0.0"],
    [9_999, 200_000, "5.0"],
    [165_000, 200_000, "82.5"],
    [900_000, 1_000_000, "90.0"],
    [250_000, 200_000, "100.0"],
    [1_250, 0, "0.0"],
  ])("%p / %p", (t, w, want) => {
    expect(toFixedEven(contextPercentage(t, w), 1)).toBe(want);
  });
  test.each([
    [0, "$0.00"],
    [0.005, "$0.0050"],
    [0.00125, "$0.0013"],
    [0.0000005, "$0.0000"],
    [0.125, "$0.12"],
    [0.35, "$0.35"],
    [9.999, "$10.00"],
    [12.34, "$12.3"],
    [12.25, "$12.2"],
    [99.95, "$100.0"],
    [150, "$150"],
    [150.5, "$150"],
    [1234.5678, "$1235"],
    [-0.5, "$-0.50"],
    [-0.004, "$-0.00"],
    [-150, "$-150.00"],
    [1e15, "$9223372036855"],
  ])("cost %p", (usd, want) => {
    expect(costDisplay(costMicros(usd) / 1_000_000)).toBe(want);
  });
});

describe("builtinLine (DAEMON.md §11.3)", () => {
  test("all four parts", () => {
    expect(
      builtinLine({
        model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
        workspace: { current_dir: "/home/u/code/proj" },
        cwd: "/elsewhere",
        context_window: {
          context_window_size: 200_000,
          current_usage: { input_tokens: 1000, cache_read_input_tokens: 40_000, cache_creation_input_tokens: 2000, output_tokens: 99 },
        },
        cost: { total_cost_usd: 0.35, total_duration_ms: 1 },
      }),
    ).toBe("Opus 4.5 · proj · ctx 21.5% · $0.35\n");
  });
  test("cwd fallback, default 1M window for [1m], null usage", () => {
    expect(builtinLine({ model: { id: "claude-opus-4-6[1m]" }, cwd: "/a/b/", context_window: { current_usage: null } })).toBe(
      "Opus 4.6 · b · ctx 0.0%\n",
    );
    expect(
      builtinLine({ model: { id: "claude-opus-4-6[1M]" }, context_window: { current_usage: { input_tokens: 500_000 } } }),
    ).toBe("Opus 4.6 · ctx 50.0%\n");
  });
  test("nothing usable → atm", () => {
    expect(builtinLine({})).toBe("atm\n");
    expect(builtinLine([1, 2])).toBe("atm\n");
    expect(builtinLine("x")).toBe("atm\n");
    expect(builtinLine({ session_id: "s", workspace: { current_dir: "" }, cwd: "" })).toBe("atm\n");
  });
  test("model object without id shows Unknown", () => {
    expect(builtinLine({ model: {} })).toBe("Unknown\n");
  });
});
