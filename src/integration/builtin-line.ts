// The built-in status line of `atmd statusline` (DAEMON.md §11.3), computed from Claude Code's
// status JSON alone, with the registry's own rules for the model name (SESSIONS.md §10.1), the
// context percentage (§9.2) and the cost (§9.3), so the line agrees with `atmd list`.
import { isObject } from "../protocol/json.ts";
import { contextPercentage, costDisplay, costMicros, lastPathComponent, toFixedEven } from "../registry/format.ts";
import { defaultContextWindow, modelDisplayName } from "../registry/models.ts";


function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}


/** The built-in line for a status JSON value (already parsed), newline included. */
export function builtinLine(input: unknown): string {
  if (!isObject(input)) return "atm\n";
  const parts: string[] = [];
  const model = input.model;
  const modelId = isObject(model) && typeof model.id === "string" ? model.id : undefined;
  if (isObject(model)) {
    const dn = typeof model.display_name === "string" ? model.display_name : undefined;
    parts.push(modelDisplayName(modelId, dn));
  }
  const ws = input.workspace;
  const wsDir = isObject(ws) && typeof ws.current_dir === "string" ? ws.current_dir : "";
  const dir = wsDir !== "" ? wsDir : typeof input.cwd === "string" ? input.cwd : "";
  if (dir !== "") parts.push(lastPathComponent(dir));
  const cw = input.context_window;
  if (isObject(cw)) {
    const u = isObject(cw.current_usage) ? cw.current_usage : {};
    const tokens = num(u.cache_read_input_tokens) + num(u.input_tokens) + num(u.cache_creation_input_tokens);
    const window =
      typeof cw.context_window_size === "number" ? cw.context_window_size : defaultContextWindow(modelId);
    parts.push(`ctx ${toFixedEven(contextPercentage(tokens, window), 1)}%`);
  }
  const cost = input.cost;
  if (isObject(cost) && typeof cost.total_cost_usd === "number") {
    parts.push(costDisplay(costMicros(cost.total_cost_usd) / 1_000_000));
  }
  return parts.length === 0 ? "atm\n" : `${parts.join(" · ")}\n`;
}
