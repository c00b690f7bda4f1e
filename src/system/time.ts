// Wall-clock time with sub-millisecond precision, and the wire timestamp format (SESSIONS.md §8).

/** Milliseconds since the epoch, with a fractional part (microsecond-ish resolution). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export { formatTimestamp } from "../protocol/timestamp.ts";
