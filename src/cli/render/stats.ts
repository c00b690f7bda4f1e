// `atmd stats` for people (DAEMON.md §6): the `stats` reply (PROTOCOL.md §13) as `key: value`
// lines, nested objects flattened with dots (`counters.<name>: …`). Pure.
import { isObject } from "../../protocol/json.ts";
import { sanitize } from "./text.ts";

function scalar(v: unknown): string {
  if (typeof v === "string") return sanitize(v);
  if (v === null || typeof v === "number" || typeof v === "boolean") return String(v);
  return sanitize(JSON.stringify(v) ?? "");
}

export function statsLines(reply: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (prefix === "" && k === "type") continue;
      const key = `${prefix}${k}`;
      const pv = v as { major?: unknown; minor?: unknown } | null;
      if (k === "protocol_version" && typeof pv?.major === "number" && typeof pv.minor === "number") {
        lines.push(`${key}: ${pv.major}.${pv.minor}`);
      } else if (isObject(v)) {
        walk(v, `${key}.`);
      } else {
        lines.push(`${key}: ${scalar(v)}`);
      }
    }
  };
  walk(reply, "");
  return lines;
}
