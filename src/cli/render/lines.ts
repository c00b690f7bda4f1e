// `atmd watch --lines` (DAEMON.md §6): one line per daemon message, for scripts and logs.
//   <HH:MM:SS> list <n> sessions
//   <HH:MM:SS> updated <id_short> <status_label> <activity_detail or ->
//   <HH:MM:SS> removed <session_id>
// Pure: the clock is passed in. Messages of other types print nothing (null).
import { sanitize } from "./text.ts";

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Local wall-clock time as HH:MM:SS. */
export function clock(date: Date): string {
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

function str(v: unknown, fallback: string): string {
  return typeof v === "string" && v !== "" ? sanitize(v) : fallback;
}

export function watchLine(message: Record<string, unknown>, now: Date): string | null {
  const t = clock(now);
  switch (message.type) {
    case "session_list": {
      const n = Array.isArray(message.sessions) ? message.sessions.length : 0;
      return `${t} list ${n} ${n === 1 ? "session" : "sessions"}`;
    }
    case "session_updated": {
      const s = message.session;
      if (typeof s !== "object" || s === null) return null;
      const v = s as Record<string, unknown>;
      const idShort = str(v.id_short, str(v.id, "?"));
      return `${t} updated ${idShort} ${str(v.status_label, str(v.status, "?"))} ${str(v.activity_detail, "-")}`;
    }
    case "session_removed":
      return `${t} removed ${str(message.session_id, "?")}`;
    default:
      return null;
  }
}
