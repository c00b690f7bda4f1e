import { describe, expect, test } from "bun:test";
// The built-in line uses the registry's formatting and model names, tested in format.test.ts and
// models.test.ts; here, how it puts them together.
import { builtinLine } from "../../src/integration/builtin-line.ts";

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
