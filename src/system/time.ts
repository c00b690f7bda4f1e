// Wall-clock time with sub-millisecond precision and the wire timestamp format (SESSIONS.md §8):
// RFC 3339 in UTC with exactly nine fractional digits and `+00:00`.

/** Milliseconds since the epoch, with a fractional part (microsecond-ish resolution). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `2026-01-15T10:00:00.123456789+00:00` for a time in ms since the epoch (fraction kept). */
export function formatTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const d = new Date(whole);
  const frac = ms - whole; // [0, 1) ms
  const ns = Math.min(999_999_999, (whole % 1000) * 1_000_000 + Math.floor(frac * 1_000_000));
  const base = d.toISOString().slice(0, 19);
  return `${base}.${String(ns).padStart(9, "0")}+00:00`;
}
