// The wire contract, pure: turning one received line into a classified client message
// (PROTOCOL.md §3–§7, the ordered checks of §4.2/§4.4) and building every daemon message.
import * as v from "valibot";
import type { SessionView } from "../registry/types.ts";
import { type ErrorCode, texts } from "./errors.ts";
import { isObject } from "./json.ts";
import { PROTOCOL_VERSION } from "./version.ts";

export { PROTOCOL_VERSION };
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// Client messages: own-field schemas, looked up by `type` (one safeParse per message).

const optionalString = v.nullish(v.string());

const schemas = {
  connect: v.object({ client_id: optionalString }),
  status_update: v.object({ data: v.unknown() }),
  hook_event: v.object({ data: v.unknown() }),
  list_sessions: v.object({}),
  subscribe: v.object({ session_id: optionalString }),
  unsubscribe: v.object({}),
  ping: v.object({ seq: v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_SAFE)) }),
  disconnect: v.object({}),
  discover: v.object({}),
  stats: v.object({}),
} as const;

export type ClientType = keyof typeof schemas;

export type ClientMessage =
  | { type: "connect"; client_id: string | null }
  | { type: "status_update"; data: unknown }
  | { type: "hook_event"; data: unknown }
  | { type: "list_sessions" }
  | { type: "subscribe"; session_id: string | null }
  | { type: "unsubscribe" }
  | { type: "ping"; seq: number }
  | { type: "disconnect" }
  | { type: "discover" }
  | { type: "stats" };

const FIELD_EXPECTATIONS: Record<string, string> = {
  client_id: "expected a string or null",
  session_id: "expected a string or null",
  seq: "expected a non-negative integer",
};

export function isClientType(type: string): type is ClientType {
  return Object.hasOwn(schemas, type);
}

// ---------------------------------------------------------------------------------------------
// Line classification

/** What one non-blank line turned out to be, before connection state is considered. */
export type LineResult =
  | { kind: "ignore" } // blank line
  | { kind: "invalid_json"; message: string }
  | { kind: "invalid"; message: string } // not an object / bad envelope / bad own fields
  | { kind: "version"; major: number; minor: number }
  | { kind: "unknown_type"; type: string }
  | { kind: "bad_fields"; type: ClientType; message: string }
  | { kind: "message"; message: ClientMessage };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True for a line made only of spaces, tabs and CRs (PROTOCOL.md §3.1). */
export function isBlank(line: Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) {
    const b = line[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

function isUint16(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 65535;
}

/** Decodes and classifies one line (without its `\n` and trailing `\r`). */
export function parseLine(line: Uint8Array): LineResult {
  if (isBlank(line)) return { kind: "ignore" };
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { kind: "invalid_json", message: texts.invalidUtf8 };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: "invalid_json", message: texts.invalidJson(jsonErrorDetail(err)) };
  }
  return classify(value);
}

function jsonErrorDetail(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 200 ? `${msg.slice(0, 200)}…` : msg;
}

/** The ordered checks of PROTOCOL.md §4.2 / §4.4 on a parsed JSON value. */
export function classify(value: unknown): LineResult {
  if (!isObject(value)) {
    return { kind: "invalid", message: texts.invalidMessage("expected a JSON object") };
  }
  const obj = value;
  const pv = obj.protocol_version;
  if (pv === undefined) {
    return { kind: "invalid", message: texts.invalidMessage("missing field `protocol_version`") };
  }
  if (!isObject(pv)) {
    return {
      kind: "invalid",
      message: texts.invalidMessage("invalid type for `protocol_version`: expected an object {major, minor}"),
    };
  }
  const { major, minor } = pv;
  if (major === undefined) return { kind: "invalid", message: texts.invalidMessage("missing field `major`") };
  if (minor === undefined) return { kind: "invalid", message: texts.invalidMessage("missing field `minor`") };
  if (!isUint16(major) || !isUint16(minor)) {
    return {
      kind: "invalid",
      message: texts.invalidMessage("invalid value for `protocol_version`: expected integers 0-65535"),
    };
  }
  if (major !== PROTOCOL_VERSION.major) return { kind: "version", major, minor };
  const type = obj.type;
  if (typeof type !== "string") {
    return {
      kind: "invalid",
      message: texts.invalidMessage(type === undefined ? "missing field `type`" : "invalid type for `type`: expected a string"),
    };
  }
  if (!isClientType(type)) return { kind: "unknown_type", type };
  const result = v.safeParse(schemas[type], obj);
  if (!result.success) {
    return { kind: "bad_fields", type, message: texts.invalidMessage(fieldDetail(result.issues)) };
  }
  return { kind: "message", message: toMessage(type, result.output as Record<string, unknown>) };
}

function fieldDetail(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  const key = issue?.path?.[0]?.key;
  if (typeof key !== "string") return "invalid message";
  if (issue?.kind === "schema" && issue.type === "object" && issue.input === undefined) {
    return `missing field \`${key}\``;
  }
  return `invalid type for \`${key}\`: ${FIELD_EXPECTATIONS[key] ?? "unexpected value"}`;
}

function toMessage(type: ClientType, o: Record<string, unknown>): ClientMessage {
  switch (type) {
    case "connect":
      return { type, client_id: (o.client_id as string | null | undefined) ?? null };
    case "subscribe":
      return { type, session_id: (o.session_id as string | null | undefined) ?? null };
    case "ping":
      return { type, seq: o.seq as number };
    case "status_update":
    case "hook_event":
      return { type, data: o.data };
    default:
      return { type };
  }
}

// ---------------------------------------------------------------------------------------------
// Daemon messages: compact JSON, keys in the order of PROTOCOL.md §8, one `\n`.

export function encode(message: object): string {
  return `${JSON.stringify(message)}\n`;
}

export const daemon = {
  connected: (clientId: string) =>
    encode({ type: "connected", protocol_version: PROTOCOL_VERSION, client_id: clientId }),
  rejected: (major: number, minor: number) =>
    encode({ type: "rejected", reason: texts.versionMismatch(major, minor), protocol_version: PROTOCOL_VERSION }),
  sessionList: (sessions: readonly SessionView[]) => encode({ type: "session_list", sessions }),
  sessionUpdated: (session: SessionView) => encode({ type: "session_updated", session }),
  sessionRemoved: (sessionId: string) => encode({ type: "session_removed", session_id: sessionId }),
  pong: (seq: number) => encode({ type: "pong", seq }),
  error: (message: string, code: ErrorCode) => encode({ type: "error", message, code }),
  discoveryComplete: (discovered: number, failed: number) =>
    encode({ type: "discovery_complete", discovered, failed }),
  stats: (s: StatsReply) => encode({ type: "stats", ...s }),
};

export interface StatsCounters {
  connections_accepted: number;
  connections_refused: number;
  messages_in: number;
  status_updates: number;
  hook_events: number;
  unknown_hook_events: number;
  errors_sent: number;
  broadcasts: number;
  slow_consumers_dropped: number;
  sessions_created: number;
  sessions_removed: number;
}

/** The `stats` reply after `type`, in wire order (PROTOCOL.md §13). */
export interface StatsReply {
  version: string;
  protocol_version: typeof PROTOCOL_VERSION;
  pid: number;
  socket: string;
  started_at: string;
  uptime_seconds: number;
  sessions: number;
  max_sessions: number;
  connections: number;
  max_connections: number;
  subscribers: number;
  max_subscribers: number;
  counters: StatsCounters;
  rss_bytes: number;
  cpu_percent: number;
}
