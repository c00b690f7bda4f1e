// The wire timestamp (SESSIONS.md §8), used by SessionViews, `stats`, logs and setup's stash.

/**
 * `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+00:00` (35 characters) from milliseconds since the epoch (§8).
 * A double near 1.7e12 ms resolves about 0.24 µs, so the sub-millisecond part is kept to whole
 * microseconds and the last three digits are zeros rather than rounding noise.
 */
export function formatTimestamp(ms: number): string {
  let whole = Math.floor(ms);
  let micros = Math.round((ms - whole) * 1000);
  if (micros >= 1000) {
    whole += 1;
    micros = 0;
  }
  const iso = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const nanos = (whole - Math.floor(whole / 1000) * 1000) * 1_000_000 + micros * 1000;
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, "0")}+00:00`;
}
