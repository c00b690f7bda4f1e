// The exact display strings of a SessionView (SESSIONS.md §8, §9): fixed-decimal rounding with
// ties to even, token counts, cost, durations, relative times, path and id shortening by code
// points, and the fixed-width timestamp. Pure functions of numbers and strings.

/**
 * `x` to `n` decimals, rounding the exact binary value and breaking exact ties to even (§9.1).
 * `toFixed` already rounds the exact value; it only gets exact ties wrong (it picks the larger
 * magnitude), so those are detected from the full expansion and corrected.
 */
export function toFixedEven(x: number, n: number): string {
  const s = x.toFixed(n);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return s;
  // Cheap filter: an exact tie needs x·10ⁿ within rounding error of k + ½; most values are not.
  const y = Math.abs(x) * 10 ** n;
  const frac = y - Math.floor(y);
  if (Math.abs(frac - 0.5) > Math.max(1e-6, y * 1e-15)) return s;
  const full = x.toFixed(100);
  const dot = full.indexOf(".");
  if (full.charCodeAt(dot + 1 + n) !== 53 /* "5" */) return s;
  for (let i = dot + 2 + n; i < full.length; i++) if (full.charCodeAt(i) !== 48) return s;
  const truncated = n === 0 ? full.slice(0, dot) : full.slice(0, dot + 1 + n);
  const last = truncated.charCodeAt(truncated.length - 1) - 48;
  return last % 2 === 0 ? truncated : s;
}

/** Token counts: `999`, `1.2K`, `43K`, `1.6M` (§9.2). */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 10_000) return `${toFixedEven(n / 1000, 1)}K`;
  if (n < 1_000_000) return `${Math.floor(n / 1000)}K`;
  return `${toFixedEven(n / 1_000_000, 1)}M`;
}

/** Divide, then multiply, then cap: the reference's order of operations, so ties match. */
export function contextPercentage(tokens: number, window: number): number {
  if (window === 0) return 0;
  return Math.min(100, (tokens / window) * 100);
}

export function contextDisplay(tokens: number, window: number): string {
  return `${toFixedEven(contextPercentage(tokens, window), 1)}% (${formatTokens(tokens)}/${formatTokens(window)})`;
}

/** `d` is cost_micros / 1e6; negative values fall in the 2-decimal band (§9.3). */
export function costDisplay(d: number): string {
  if (d > 0 && d < 0.01) return `$${toFixedEven(d, 4)}`;
  if (d < 10) return `$${toFixedEven(d, 2)}`;
  if (d < 100) return `$${toFixedEven(d, 1)}`;
  return `$${toFixedEven(d, 0)}`;
}

const I64_MAX_AS_DOUBLE = 9_223_372_036_854_775_807;
const I64_MIN_AS_DOUBLE = -9_223_372_036_854_775_808;

/** round(usd × 1e6) half away from zero, saturated like a Rust `as i64` cast (§5.3). */
export function costMicros(usd: number): number {
  const p = usd * 1_000_000;
  if (Number.isNaN(p)) return 0;
  const r = p < 0 ? -Math.round(-p) : Math.round(p);
  if (r >= I64_MAX_AS_DOUBLE) return I64_MAX_AS_DOUBLE;
  if (r <= I64_MIN_AS_DOUBLE) return I64_MIN_AS_DOUBLE;
  return r === 0 ? 0 : r; // no -0 on the wire
}

/** `35s`, `2m 15s`, `1h`, `1h 30m`, `25h` (§9.4). */
export function durationDisplay(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return s % 60 === 0 ? `${m}m` : `${m}m ${s % 60}s`;
  }
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  return min === 0 ? `${h}h` : `${h}h ${min}m`;
}

/** Elapsed milliseconds → `0s ago` … `3d ago`; `now` when the clock stepped back (§9.6). */
export function relativeDisplay(elapsedMs: number): string {
  const s = Math.trunc(elapsedMs / 1000);
  if (s < 0) return "now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}
function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

/** The first `n` code points of `s` (a lone surrogate counts as one); never splits a pair. */
export function firstCodePoints(s: string, n: number): string {
  if (s.length <= n) return s;
  let i = 0;
  for (let count = 0; count < n && i < s.length; count++) {
    i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return s.slice(0, i);
}

/** Whether `s` has more than `n` code points, scanning at most about 2n units. */
function longerThan(s: string, n: number): boolean {
  if (s.length <= n) return false;
  if (s.length > 2 * n) return true;
  return firstCodePoints(s, n).length < s.length;
}

/** The last `n` code points of `s`. */
function lastCodePoints(s: string, n: number): string {
  let i = s.length;
  for (let count = 0; count < n && i > 0; count++) {
    i -= isLow(s.charCodeAt(i - 1)) && i - 2 >= 0 && isHigh(s.charCodeAt(i - 2)) ? 2 : 1;
  }
  return s.slice(i);
}

/** More than 30 code points → `...` + the last 27 (§9.7). */
export function shortenPath(path: string): string {
  return longerThan(path, 30) ? `...${lastCodePoints(path, 27)}` : path;
}

/** First 8 code points, or the whole id when shorter (§9.8). */
/** The last component of a path, trailing slashes ignored; `/` (or only slashes) stays `/`. */
export function lastPathComponent(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export function idShort(id: string): string {
  return firstCodePoints(id, 8);
}

export { formatTimestamp } from "../protocol/timestamp.ts";
