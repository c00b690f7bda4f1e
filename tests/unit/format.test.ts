// Every display string of SESSIONS.md §8 and §9, one row per rule or worked example.
import { describe, expect, test } from "bun:test";
import {
  contextDisplay, contextPercentage, costDisplay, costMicros, durationDisplay, firstCodePoints,
  formatTimestamp, formatTokens, idShort, relativeDisplay, shortenPath, toFixedEven,
} from "../../src/registry/format.ts";

describe("§9.1 fixed-decimal rounding, exact ties to even", () => {
  test.each([
    [21.25, 1, "21.2"], [0.125, 2, "0.12"], [1.25, 1, "1.2"], [150.5, 0, "150"], [0.375, 2, "0.38"],
    [2.675, 2, "2.67"], [151.5, 0, "152"], [0.5, 0, "0"], [-0.5, 0, "-0"], [-0.004, 2, "-0.00"],
    [4.999499999999999, 1, "5.0"], [0, 1, "0.0"], [1e15, 0, "1000000000000000"], [-0.125, 2, "-0.12"],
  ])("%p to %p decimals -> %p", (x, n, want) => {
    expect(toFixedEven(x, n)).toBe(want);
  });
});

describe("§9.2 context", () => {
  test.each([
    [40_000 + 1_000 + 2_000, 200_000, 21.5, "21.5% (43K/200K)"],
    [42_500, 200_000, 21.25, "21.2% (42K/200K)"],
    [0, 200_000, 0, "0.0% (0/200K)"],
    [9_999, 200_000, 4.999499999999999, "5.0% (10.0K/200K)"],
    [150_000 + 10_000 + 5_000, 200_000, 82.5, "82.5% (165K/200K)"],
    [900_000, 1_000_000, 90, "90.0% (900K/1.0M)"],
    [250_000, 200_000, 100, "100.0% (250K/200K)"],
    [1_250, 0, 0, "0.0% (1.2K/0)"],
  ])("%p tokens of %p", (tokens, window, pct, display) => {
    expect(contextPercentage(tokens, window)).toBe(pct);
    expect(contextDisplay(tokens, window)).toBe(display);
  });

  test.each([
    [999, "999"], [1000, "1.0K"], [1050, "1.1K"], [1250, "1.2K"], [9999, "10.0K"], [43_000, "43K"],
    [999_999, "999K"], [1_000_000, "1.0M"], [1_250_000, "1.2M"], [1_550_000, "1.6M"], [0, "0"],
  ])("fmt(%p) = %p", (n, want) => {
    expect(formatTokens(n)).toBe(want);
  });

  test("huge token sums stay finite and printable", () => {
    const n = 3 * 9_007_199_254_740_991;
    expect(contextDisplay(n, 4_294_967_295)).toMatch(/^100\.0% \(\d+\.\dM\/4295\.0M\)$/);
  });
});

describe("§9.3 cost", () => {
  test.each([
    [0, 0, "$0.00"], [0.005, 0.005, "$0.0050"], [0.00125, 0.00125, "$0.0013"], [0.0000005, 0.000001, "$0.0000"],
    [0.125, 0.125, "$0.12"], [0.35, 0.35, "$0.35"], [9.999, 9.999, "$10.00"], [12.34, 12.34, "$12.3"],
    [12.25, 12.25, "$12.2"], [99.95, 99.95, "$100.0"], [150, 150, "$150"], [150.5, 150.5, "$150"],
    [1234.5678, 1234.5678, "$1235"], [-0.5, -0.5, "$-0.50"], [-0.004, -0.004, "$-0.00"],
    [-150, -150, "$-150.00"], [1e15, 9223372036854.775, "$9223372036855"],
    [-1e15, -9223372036854.775, "$-9223372036854.78"], [1e308, 9223372036854.775, "$9223372036855"],
    [-0.0000001, 0, "$0.00"],
  ])("total_cost_usd %p", (usd, costUsd, display) => {
    const d = costMicros(usd) / 1_000_000;
    expect(d).toBe(costUsd);
    expect(Object.is(d, -0)).toBe(false);
    expect(costDisplay(d)).toBe(display);
  });

  test("micros round half away from zero", () => {
    expect(costMicros(0.0000025)).toBe(3);
    expect(costMicros(-0.0000025)).toBe(-3);
  });
});

describe("§9.4 duration", () => {
  test.each([
    [0, "0s"], [999, "0s"], [35_000, "35s"], [60_000, "1m"], [135_000, "2m 15s"], [3_599_000, "59m 59s"],
    [3_600_000, "1h"], [3_660_000, "1h 1m"], [5_400_000, "1h 30m"], [90_000_000, "25h"],
  ])("%p ms -> %p", (ms, want) => {
    expect(durationDisplay(ms)).toBe(want);
  });
});

describe("§9.6 relative times", () => {
  test.each([
    [0, "0s ago"], [59, "59s ago"], [60, "1m ago"], [3599, "59m ago"], [3600, "1h ago"],
    [86_399, "23h ago"], [86_400, "1d ago"], [-0.5, "0s ago"], [-2, "now"], [59.999, "59s ago"],
  ])("%p s -> %p", (s, want) => {
    expect(relativeDisplay(s * 1000)).toBe(want);
  });
});

describe("§9.7 working_directory", () => {
  test.each([
    ["/home/u/code/proj", "/home/u/code/proj"],
    ["/home/user/projects/very-long-project-name/src", ".../very-long-project-name/src"],
    ["/home/u/a/b/c/d/e/f/g/h/i/j/k/l/m", "...u/a/b/c/d/e/f/g/h/i/j/k/l/m"],
    ["/home/u/Проекты/мой-очень-длинный-проект/src", "...ой-очень-длинный-проект/src"],
    ["/home/u/é/日本語のプロジェクト/ソース/コンポーネント", ".../u/é/日本語のプロジェクト/ソース/コンポーネント"],
    ["a".repeat(30), "a".repeat(30)],
    ["a".repeat(31), `...${"a".repeat(27)}`],
    ["😀".repeat(30), "😀".repeat(30)],
    ["😀".repeat(31), `...${"😀".repeat(27)}`],
    [`x${"😀".repeat(29)}`, `x${"😀".repeat(29)}`],
    [`${"😀".repeat(30)}x`, `...${"😀".repeat(26)}x`],
    ["", ""],
  ])("%p", (path, want) => {
    expect(shortenPath(path)).toBe(want);
    expect(Array.from(shortenPath(path)).length).toBeLessThanOrEqual(30);
  });

  test("a megabyte path is shortened quickly", () => {
    const p = `/${"é/".repeat(500_000)}end`;
    const t = performance.now();
    expect(shortenPath(p)).toBe(`...${"é/".repeat(12)}end`);
    expect(performance.now() - t).toBeLessThan(50);
  });
});

describe("§9.8 id_short", () => {
  test.each([
    ["8e11bfb5-7dc2-432b-9206-928fa5c35731", "8e11bfb5"], ["pending-1234", "pending-"], ["abc", "abc"],
    ["日本語のセッションID12345", "日本語のセッショ"], ["", ""], ["1234567", "1234567"], ["12345678", "12345678"],
    ["😀😀😀😀😀😀😀😀😀", "😀😀😀😀😀😀😀😀"], ["1234567😀x", "1234567😀"],
  ])("%p -> %p", (id, want) => {
    expect(idShort(id)).toBe(want);
  });
});

describe("code-point cuts", () => {
  test("never split a surrogate pair; lone surrogates count as one", () => {
    expect(firstCodePoints("ab😀c", 3)).toBe("ab😀");
    expect(firstCodePoints("\ud800x", 1)).toBe("\ud800");
    expect(firstCodePoints("x".repeat(600), 500).length).toBe(500);
  });
});

describe("§8 timestamps", () => {
  test.each([
    [Date.parse("2026-01-15T10:00:00.123Z"), "2026-01-15T10:00:00.123000000+00:00"],
    [Date.parse("2026-01-15T10:00:00.000Z"), "2026-01-15T10:00:00.000000000+00:00"],
    [Date.parse("2026-01-15T10:00:00.123Z") + 0.456, "2026-01-15T10:00:00.123456000+00:00"],
    [Date.parse("2026-01-15T10:00:00.999Z") + 0.9999, "2026-01-15T10:00:01.000000000+00:00"],
    [Date.parse("2026-01-15T08:30:00.000Z"), "2026-01-15T08:30:00.000000000+00:00"],
  ])("%p -> %p", (ms, want) => {
    expect(formatTimestamp(ms)).toBe(want);
    expect(formatTimestamp(ms)).toHaveLength(35);
  });

  test("string order is instant order", () => {
    const base = Date.parse("2026-01-15T10:00:00.000Z");
    let prev = "";
    for (let i = 0; i < 2000; i++) {
      const s = formatTimestamp(base + i * 0.7);
      expect(s >= prev).toBe(true);
      prev = s;
    }
  });
});

describe("toFixedEven agrees with an exact decimal reference", () => {
  /** Exact: scale the full binary expansion with BigInt and round half to even. */
  function exact(x: number, n: number): string {
    const full = Math.abs(x).toFixed(100);
    const [int = "0", frac = ""] = full.split(".");
    const digits = BigInt(int + frac.slice(0, n));
    const rest = frac.slice(n);
    const half = rest[0] === "5" && /^50*$/.test(rest);
    const up = rest[0] !== undefined && (rest[0] > "5" || (rest[0] === "5" && !half) || (half && digits % 2n === 1n));
    const v = (digits + (up ? 1n : 0n)).toString().padStart(n + 1, "0");
    const body = n === 0 ? v : `${v.slice(0, -n)}.${v.slice(-n)}`;
    return (x < 0 || Object.is(x, -0) ? "-" : "") + body;
  }
  test("dyadic ties and random values", () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const n = i % 5;
      const x = i % 2 === 0 ? Math.floor(rand() * 1e7) / 2 ** (1 + (i % 12)) : rand() * 10 ** (i % 9);
      expect(toFixedEven(x, n)).toBe(exact(x, n));
    }
  });
});
