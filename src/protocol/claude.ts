// Claude Code's status-line and hook JSON as atmd reads it (SESSIONS.md §5.1, §6.1): only the
// fields atmd uses are type-checked, `null` counts as absent, and every problem becomes a
// serde-style detail string. Hand-written rather than valibot so the detail texts match the
// reference's wording and the hot path allocates nothing on success.
import { isObject, type Json } from "./json.ts";

/**
 * The 20 hook events the daemon understands (SESSIONS.md §6.3), which setup installs (DAEMON.md
 * §12.2), in that table's order; the first four get `"matcher":"*"`.
 */
export const MATCHER_EVENTS = ["PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest"] as const;
export const PLAIN_EVENTS = [
  "SessionStart",
  "Setup",
  "UserPromptSubmit",
  "UserPromptExpansion",
  "PostToolBatch",
  "Notification",
  "Elicitation",
  "ElicitationResult",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "PostCompact",
  "Stop",
  "StopFailure",
  "CwdChanged",
  "SessionEnd",
] as const;
export const HOOK_EVENTS: readonly string[] = [...MATCHER_EVENTS, ...PLAIN_EVENTS];

export const MAX_SAFE = 9_007_199_254_740_991;
export const MAX_U32 = 4_294_967_295;

export interface StatusCost {
  totalCostUsd: number;
  totalDurationMs: number;
  totalApiDurationMs: number;
  linesAdded: number;
  linesRemoved: number;
}

export interface StatusContextWindow {
  totalInputTokens: number;
  totalOutputTokens: number;
  contextWindowSize: number | undefined;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/** A validated status line; absent groups are `undefined` (a partial line changes less). */
export interface StatusLine {
  sessionId: string;
  /** A usable pid (1 … 2^32−1); 0 and absent are both `undefined`. */
  pid: number | undefined;
  tmuxPane: string | undefined;
  cwd: string | undefined;
  model: { id: string; displayName: string | undefined } | undefined;
  version: string | undefined;
  cost: StatusCost | undefined;
  contextWindow: StatusContextWindow | undefined;
}

export interface HookData {
  sessionId: string;
  hookEventName: string;
  pid: number | undefined;
  tmuxPane: string | undefined;
  cwd: string | undefined;
  toolName: string | undefined;
  notificationType: string | undefined;
  prompt: string | undefined;
  agentId: string | undefined;
  agentType: string | undefined;
  /** Untyped on purpose: used only when a non-empty string. */
  newCwd: unknown;
  error: unknown;
}

export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; detail: string; missingSessionId?: boolean };

/** Thrown only inside this module and turned into a `Parsed` failure at the boundary. */
class FieldError {
  constructor(readonly detail: string) {}
}


/** serde's way of naming an unexpected value, with long strings cut so replies stay small. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return `boolean \`${v}\``;
  if (typeof v === "number") return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === "string") {
    const cut = v.length > 64 ? `${v.slice(0, 64)}…` : v;
    return `string ${JSON.stringify(cut)}`;
  }
  if (Array.isArray(v)) return "sequence";
  if (typeof v === "object") return "map";
  return typeof v;
}

function optString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new FieldError(`invalid type: ${describe(v)}, expected a string`);
  return v;
}

function optObject(o: Json, key: string, what: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new FieldError(`invalid type: ${describe(v)}, expected struct ${what}`);
  return v;
}

/** A non-negative whole number up to `max`; `1.0` and `1e3` are accepted (PROTOCOL.md §3.4). */
function optInt(o: Json, key: string, max: number, kind: "u64" | "u32"): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw new FieldError(`invalid type: ${describe(v)}, expected ${kind}`);
  if (!Number.isInteger(v)) throw new FieldError(`invalid type: floating point \`${v}\`, expected ${kind}`);
  if (v < 0 || v > max) throw new FieldError(`invalid value: integer \`${v}\`, expected ${kind}`);
  return v;
}

function reqInt(o: Json, key: string, max: number, kind: "u64" | "u32"): number {
  const v = optInt(o, key, max, kind);
  if (v === undefined) throw new FieldError(`missing field \`${key}\``);
  return v;
}

function pidOf(o: Json): number | undefined {
  const pid = optInt(o, "pid", MAX_U32, "u32");
  return pid === 0 ? undefined : pid;
}

function parseModel(o: Json): StatusLine["model"] {
  const m = optObject(o, "model", "Model");
  if (m === undefined) return undefined;
  const id = optString(m, "id");
  if (id === undefined) throw new FieldError("missing field `id`");
  return { id, displayName: optString(m, "display_name") };
}

function parseCost(o: Json): StatusCost | undefined {
  const c = optObject(o, "cost", "Cost");
  if (c === undefined) return undefined;
  const usd = c.total_cost_usd;
  if (usd === undefined || usd === null) throw new FieldError("missing field `total_cost_usd`");
  if (typeof usd !== "number") throw new FieldError(`invalid type: ${describe(usd)}, expected f64`);
  return {
    totalCostUsd: usd,
    totalDurationMs: reqInt(c, "total_duration_ms", MAX_SAFE, "u64"),
    totalApiDurationMs: optInt(c, "total_api_duration_ms", MAX_SAFE, "u64") ?? 0,
    linesAdded: optInt(c, "total_lines_added", MAX_SAFE, "u64") ?? 0,
    linesRemoved: optInt(c, "total_lines_removed", MAX_SAFE, "u64") ?? 0,
  };
}

function parseContextWindow(o: Json): StatusContextWindow | undefined {
  const w = optObject(o, "context_window", "ContextWindow");
  if (w === undefined) return undefined;
  const u = optObject(w, "current_usage", "CurrentUsage");
  return {
    totalInputTokens: optInt(w, "total_input_tokens", MAX_SAFE, "u64") ?? 0,
    totalOutputTokens: optInt(w, "total_output_tokens", MAX_SAFE, "u64") ?? 0,
    contextWindowSize: optInt(w, "context_window_size", MAX_U32, "u32"),
    inputTokens: u === undefined ? 0 : (optInt(u, "input_tokens", MAX_SAFE, "u64") ?? 0),
    outputTokens: u === undefined ? 0 : (optInt(u, "output_tokens", MAX_SAFE, "u64") ?? 0),
    cacheCreationTokens: u === undefined ? 0 : (optInt(u, "cache_creation_input_tokens", MAX_SAFE, "u64") ?? 0),
    cacheReadTokens: u === undefined ? 0 : (optInt(u, "cache_read_input_tokens", MAX_SAFE, "u64") ?? 0),
  };
}

/** Validates a status_update `data` (any JSON value). Never throws. */
export function parseStatusLine(data: unknown): Parsed<StatusLine> {
  if (!isObject(data) || typeof data.session_id !== "string") {
    return { ok: false, detail: "Missing session_id", missingSessionId: true };
  }
  try {
    return {
      ok: true,
      value: {
        sessionId: data.session_id,
        pid: pidOf(data),
        tmuxPane: optString(data, "tmux_pane"),
        cwd: optString(data, "cwd"),
        model: parseModel(data),
        version: optString(data, "version"),
        cost: parseCost(data),
        contextWindow: parseContextWindow(data),
      },
    };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, detail: e.detail };
    throw e;
  }
}

/** Validates a hook_event `data` (any JSON value). Never throws. */
export function parseHookData(data: unknown): Parsed<HookData> {
  if (!isObject(data)) return { ok: false, detail: "expected a JSON object" };
  try {
    const sessionId = optString(data, "session_id");
    if (sessionId === undefined) throw new FieldError("missing field `session_id`");
    const hookEventName = optString(data, "hook_event_name");
    if (hookEventName === undefined) throw new FieldError("missing field `hook_event_name`");
    return {
      ok: true,
      value: {
        sessionId,
        hookEventName,
        pid: pidOf(data),
        tmuxPane: optString(data, "tmux_pane"),
        cwd: optString(data, "cwd"),
        toolName: optString(data, "tool_name"),
        notificationType: optString(data, "notification_type"),
        prompt: optString(data, "prompt"),
        agentId: optString(data, "agent_id"),
        agentType: optString(data, "agent_type"),
        newCwd: data.new_cwd,
        error: data.error,
      },
    };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, detail: e.detail };
    throw e;
  }
}
