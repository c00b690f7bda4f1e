// Forwarding an event or a status line to the daemon, shared by `atmd hook` (DAEMON.md §10) and
// `atmd statusline` (§11.1). Hot path: no node:fs here (it costs ~1.4 ms of start-up to load);
// the I/O goes through a `ForwardIo`: libc through FFI where it binds, else node:fs and Bun's
// sockets (forward-node.ts, imported only then).
import { MAX_LINE_BYTES } from "../protocol/errors.ts";
import { type Json, parseJsonObject } from "../protocol/json.ts";
import { formatTimestamp } from "../protocol/timestamp.ts";
import { LINE_HEAD } from "../protocol/version.ts";
import { firstCodePoints } from "../registry/format.ts";
import { concatBytes } from "../system/bytes.ts";
import { outermostClaude, type ProcFs } from "../system/claude-process.ts";
import { libc } from "../system/libc.ts";
import { socketPath } from "../system/socket-env.ts";

/** stdin is read up to this many bytes; more → nothing is sent (DAEMON.md §10.2 step 1). */
export const STDIN_LIMIT = 16 * 1024 * 1024;
/** Wall-clock budget, from process start, for the whole forwarding (DAEMON.md §10.1). */
export const BUDGET_MS = 100;

export type Kind = "hook" | "statusline";
export type Result =
  | "sent"
  | "no-session-id"
  | "no-claude-process"
  | "no-socket"
  | "foreign-socket"
  | "connect-failed"
  | "timeout"
  | "too-large"
  /** statusline started by another statusline: prints, never forwards (DAEMON.md §11.2). */
  | "child";


/** Fields `atmd hook` drops: never read by the daemon, possibly large or private (§10.4). */
const DROPPED = [
  "tool_input",
  "tool_response",
  "tool_calls",
  "last_assistant_message",
  "compact_summary",
  "error_details",
  "requested_schema",
  "content",
];

/** Fields the daemon reads from a `hook_event` (SESSIONS.md §6.1). */
const HOOK_FIELDS = [
  "session_id",
  "hook_event_name",
  "pid",
  "tmux_pane",
  "cwd",
  "tool_name",
  "notification_type",
  "prompt",
  "agent_id",
  "agent_type",
  "new_cwd",
  "error",
];

/** Fields the daemon reads from a `status_update` (SESSIONS.md §5.1). */
const STATUS_FIELDS = [
  "session_id",
  "pid",
  "tmux_pane",
  "cwd",
  "model",
  "version",
  "cost",
  "context_window",
];

/** The hook cuts `prompt` to this many code points (DAEMON.md §10.4). */
const PROMPT_MAX = 500;

const encoder = new TextEncoder();

/** `unsupported`: this way of checking is not available here (forward() then asks node:fs). */
export type SocketCheck = "ok" | "no-socket" | "foreign-socket" | "unsupported";

/** The I/O forwarding needs. Every call is non-blocking or bounded by the given deadline. */
export interface ForwardIo extends ProcFs {
  /**
   * Whatever stdin holds now, without blocking and stopping at `deadline`: `eof` when it reached
   * the end (else the caller reads the rest from the stream). Null when more than `limit` bytes
   * arrived; undefined when stdin cannot be read this way.
   */
  readStdinNow(limit: number, deadline?: number): { chunks: Uint8Array[]; eof: boolean } | null | undefined;
  /** §10.2 step 6: the socket must exist, be a socket and belong to the current user. */
  checkSocket(path: string): SocketCheck;
  /** Connects, writes all of `payload`, closes; `timeout` when `deadline` (performance.now()) passes. */
  send(path: string, payload: Uint8Array, deadline: number): Result | Promise<Result>;
}

/** libc where it binds (Linux x64/arm64), else node:fs and Bun.connect. */
export async function forwardIo(): Promise<ForwardIo> {
  return libc() ?? (await import("./forward-node.ts")).nodeForwardIo;
}

/**
 * Reads stdin to EOF. Null when it holds more than `limit` bytes (reading stops there). The
 * synchronous part stops at `deadline`; the rest is read on the event loop, where the caller's
 * timers can fire.
 */
export async function readStdin(
  io: ForwardIo,
  limit: number = STDIN_LIMIT,
  deadline: number = Infinity,
): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Fast path: Claude Code has written the whole JSON and closed its end by the time we run, so
  // it is all in the pipe: read it synchronously (0.07 ms against 0.4 ms for the stream).
  const fast = io.readStdinNow(limit, deadline);
  if (fast === null) return null;
  for (const c of fast?.chunks ?? []) {
    chunks.push(c);
    total += c.length;
  }
  if (fast === undefined || !fast.eof) {
    for await (const chunk of Bun.stdin.stream()) {
      total += chunk.length;
      if (total > limit) return null;
      chunks.push(chunk);
    }
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : concatBytes(chunks, total);
}

/** Parses stdin bytes; the object, or null for anything that is not a JSON object. */
export function parseObject(bytes: Uint8Array): Json | null {
  return parseJsonObject(new TextDecoder().decode(bytes));
}

/** `hook_event` when `hook_event_name` is a non-empty string other than `Status` (§10.2 step 5). */
export function messageType(input: Json, kind: Kind): "hook_event" | "status_update" {
  if (kind === "statusline") return "status_update";
  const e = input.hook_event_name;
  return typeof e === "string" && e !== "" && e !== "Status" ? "hook_event" : "status_update";
}

/**
 * The two lines to send, encoded (DAEMON.md §10.2 step 7, §10.4), or null when even the reduced
 * data line exceeds the daemon's line limit.
 */
export function buildMessage(
  input: Json,
  kind: Kind,
  claudePid: number,
  tmuxPane: string | undefined,
  hookPid: number = process.pid,
): Uint8Array | null {
  const type = messageType(input, kind);
  const data: Json = {};
  for (const key of Object.keys(input)) {
    if (kind === "hook" && DROPPED.includes(key)) continue;
    data[key] = input[key];
  }
  if (kind === "hook" && typeof data.prompt === "string") {
    data.prompt = firstCodePoints(data.prompt, PROMPT_MAX);
  }
  data.pid = claudePid;
  if (tmuxPane !== undefined && tmuxPane !== "") data.tmux_pane = tmuxPane;
  const connect = `${LINE_HEAD}"connect","client_id":${JSON.stringify(
    `${kind}-${String(input.session_id)}-${hookPid}`,
  )}}\n`;
  const prefix = encoder.encode(connect).length;
  const all = encoder.encode(`${connect}${LINE_HEAD}"${type}","data":${JSON.stringify(data)}}\n`);
  if (all.length - prefix <= MAX_LINE_BYTES) return all;
  const keep = type === "hook_event" ? HOOK_FIELDS : STATUS_FIELDS;
  const reduced: Json = {};
  for (const key of Object.keys(data)) if (keep.includes(key)) reduced[key] = data[key];
  const less = encoder.encode(`${connect}${LINE_HEAD}"${type}","data":${JSON.stringify(reduced)}}\n`);
  return less.length - prefix <= MAX_LINE_BYTES ? less : null;
}

export interface ForwardState {
  kind: Kind;
  type: string;
  event: string;
  session: string;
  pid: number | null;
}

/**
 * One line per invocation with ATM_DEBUG=1 (DAEMON.md §10.5). Never throws. The paths module is
 * imported only here (its node:os/node:path imports cost start-up time on the hot path).
 */
export async function debugLog(st: ForwardState, result: Result): Promise<void> {
  if (process.env.ATM_DEBUG !== "1") return;
  try {
    const { appendFileSync, mkdirSync } = await import("node:fs");
    const p = (await import("../system/paths.ts")).statePaths();
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    const ms = Math.round(performance.now());
    appendFileSync(
      p.hookLog,
      `${formatTimestamp(Date.now())} ${st.kind} ${st.type} ${st.event} session=${firstCodePoints(st.session, 8)} pid=${
        st.pid ?? "none"
      } ${result} ${ms}ms\n`,
      { mode: 0o600 },
    );
  } catch {
    // debugging must never break the hook
  }
}

/**
 * Forwards already-read stdin bytes (§10.2 steps 2-8). `state` is filled in as it goes so a
 * deadline handler can log what was known. Never throws.
 */
export async function forward(
  io: ForwardIo,
  bytes: Uint8Array | null,
  state: ForwardState,
  deadline: number,
): Promise<Result> {
  if (bytes === null) return "too-large";
  const input = parseObject(bytes);
  const sid = input?.session_id;
  if (input === null || typeof sid !== "string" || sid === "") return "no-session-id";
  state.session = sid;
  state.type = messageType(input, state.kind);
  const ev = input.hook_event_name;
  if (typeof ev === "string" && ev !== "") state.event = ev;
  const pid = outermostClaude(io, process.ppid);
  state.pid = pid;
  if (pid === null) return "no-claude-process";
  const payload = buildMessage(input, state.kind, pid, process.env.TMUX_PANE);
  if (payload === null) return "too-large";
  const path = socketPath();
  let check = io.checkSocket(path);
  if (check === "unsupported") check = (await import("./forward-node.ts")).nodeForwardIo.checkSocket(path);
  if (check !== "ok") return check === "unsupported" ? "no-socket" : check;
  if (performance.now() >= deadline) return "timeout";
  return io.send(path, payload, deadline);
}

export function newState(kind: Kind): ForwardState {
  return { kind, type: "-", event: "-", session: "-", pid: null };
}
