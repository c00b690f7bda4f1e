// Forwarding an event or a status line to the daemon, shared by `atmd hook` (DAEMON.md §10) and
// `atmd statusline` (§11.1). Hot path: keep imports to node built-ins and small local modules.
import { appendFileSync, closeSync, constants as fsConstants, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { formatTimestamp } from "../protocol/timestamp.ts";
import { outermostClaude } from "../system/claude-process.ts";

/** stdin is read up to this many bytes; more → nothing is sent (DAEMON.md §10.2 step 1). */
export const STDIN_LIMIT = 16 * 1024 * 1024;
/** The daemon's line limit, `\n` included (PROTOCOL.md §5). */
export const LINE_LIMIT = 1_048_576;
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

type Json = Record<string, unknown>;

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

const PROMPT_MAX = 500;

/** Reads stdin to EOF. Null when it holds more than `limit` bytes (reading stops there). */
export async function readStdin(limit: number = STDIN_LIMIT): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Fast path: whatever is already in the pipe, read synchronously through a non-blocking second
  // descriptor (Claude Code has written the whole JSON and closed its end by the time we run).
  // Measured 0.07 ms against 0.4 ms for the stream. It never blocks, so the 100 ms deadline holds.
  const fast = readAvailable(limit);
  if (fast === null) return null;
  for (const c of fast.chunks) {
    chunks.push(c);
    total += c.length;
  }
  if (!fast.eof) {
    for await (const chunk of Bun.stdin.stream()) {
      total += chunk.length;
      if (total > limit) return null;
      chunks.push(chunk);
    }
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * Reads stdin without blocking: `eof` when it reached the end, otherwise the caller continues
 * with the stream. Null when more than `limit` bytes arrived.
 */
function readAvailable(limit: number): { chunks: Uint8Array[]; eof: boolean } | null {
  const chunks: Uint8Array[] = [];
  if (process.platform !== "linux") return { chunks, eof: false };
  let fd: number;
  try {
    fd = openSync("/proc/self/fd/0", fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return { chunks, eof: false };
  }
  let total = 0;
  try {
    for (;;) {
      const buf = new Uint8Array(65536);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        return { chunks, eof: false }; // EAGAIN: the writer is still at it
      }
      if (n === 0) return { chunks, eof: true };
      total += n;
      if (total > limit) return null;
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** Parses stdin bytes; the object, or null for anything that is not a JSON object. */
export function parseObject(bytes: Uint8Array): Json | null {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}

/** `hook_event` when `hook_event_name` is a non-empty string other than `Status` (§10.2 step 5). */
export function messageType(input: Json, kind: Kind): "hook_event" | "status_update" {
  if (kind === "statusline") return "status_update";
  const e = input.hook_event_name;
  return typeof e === "string" && e !== "" && e !== "Status" ? "hook_event" : "status_update";
}

function truncateCodePoints(s: string, max: number): string {
  if (s.length <= max) return s; // UTF-16 length ≥ code points
  let out = "";
  let n = 0;
  for (const cp of s) {
    if (n++ === max) break;
    out += cp;
  }
  return out;
}

/**
 * The two lines to send (DAEMON.md §10.2 step 7, §10.4), or null when even the reduced data line
 * exceeds the daemon's line limit.
 */
export function buildMessage(
  input: Json,
  kind: Kind,
  claudePid: number,
  tmuxPane: string | undefined,
  hookPid: number = process.pid,
): string | null {
  const type = messageType(input, kind);
  const data: Json = {};
  for (const key of Object.keys(input)) {
    if (kind === "hook" && DROPPED.includes(key)) continue;
    data[key] = input[key];
  }
  if (kind === "hook" && typeof data.prompt === "string") {
    data.prompt = truncateCodePoints(data.prompt, PROMPT_MAX);
  }
  data.pid = claudePid;
  if (tmuxPane !== undefined && tmuxPane !== "") data.tmux_pane = tmuxPane;
  const head = '{"protocol_version":{"major":1,"minor":0},"type":';
  const connect = `${head}"connect","client_id":${JSON.stringify(
    `${kind}-${String(input.session_id)}-${hookPid}`,
  )}}\n`;
  let line = `${head}"${type}","data":${JSON.stringify(data)}}\n`;
  if (Buffer.byteLength(line) > LINE_LIMIT) {
    const keep = type === "hook_event" ? HOOK_FIELDS : STATUS_FIELDS;
    const reduced: Json = {};
    for (const key of Object.keys(data)) if (keep.includes(key)) reduced[key] = data[key];
    line = `${head}"${type}","data":${JSON.stringify(reduced)}}\n`;
    if (Buffer.byteLength(line) > LINE_LIMIT) return null;
  }
  return connect + line;
}

/** §10.2 step 6: the socket must exist, be a socket and belong to the current user. */
export function checkSocket(path: string): "ok" | "no-socket" | "foreign-socket" {
  let st;
  try {
    st = statSync(path);
  } catch {
    return "no-socket";
  }
  if (!st.isSocket()) return "no-socket";
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return "foreign-socket";
  return "ok";
}

/**
 * Connects, writes `payload` (keeping the unsent tail across short writes, BUN-NOTES §0.1), then
 * ends the connection without reading. Resolves to `sent`, `connect-failed` or `timeout` (when
 * `deadline`, a `performance.now()` value, passes first).
 */
export function sendOnce(path: string, payload: string, deadline: number): Promise<Result> {
  return new Promise<Result>((resolve) => {
    let rest: Uint8Array = Buffer.from(payload);
    let done = false;
    const finish = (r: Result): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish("timeout"), Math.max(0, deadline - performance.now()));
    const pump = (s: { write(b: Uint8Array): number; end(): void }): void => {
      const n = s.write(rest);
      if (n < 0) return finish("connect-failed");
      rest = rest.subarray(n);
      if (rest.length === 0) {
        s.end();
        finish("sent");
      }
    };
    Bun.connect({
      unix: path,
      socket: {
        open: pump,
        drain: pump,
        data() {},
        error() {
          finish("connect-failed");
        },
        close() {
          finish(rest.length === 0 ? "sent" : "connect-failed");
        },
        connectError() {
          finish("connect-failed");
        },
      },
    }).catch(() => finish("connect-failed"));
  });
}


function idShort(id: string): string {
  return Array.from(id).slice(0, 8).join("");
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
    const p = (await import("../system/paths.ts")).statePaths();
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    const ms = Math.round(performance.now());
    appendFileSync(
      p.hookLog,
      `${formatTimestamp(Date.now())} ${st.kind} ${st.type} ${st.event} session=${st.session} pid=${
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
  bytes: Uint8Array | null,
  state: ForwardState,
  deadline: number,
): Promise<Result> {
  if (bytes === null) return "too-large";
  const input = parseObject(bytes);
  const sid = input?.session_id;
  if (input === null || typeof sid !== "string" || sid === "") return "no-session-id";
  state.session = idShort(sid);
  state.type = messageType(input, state.kind);
  const ev = input.hook_event_name;
  if (typeof ev === "string" && ev !== "") state.event = ev;
  const pid = outermostClaude(process.ppid);
  state.pid = pid;
  if (pid === null) return "no-claude-process";
  const payload = buildMessage(input, state.kind, pid, process.env.TMUX_PANE);
  if (payload === null) return "too-large";
  const env = process.env.ATM_SOCKET; // same rule as socketPath() in system/paths.ts, inlined
  const path = env !== undefined && env !== "" ? env : "/tmp/atm.sock";
  const check = checkSocket(path);
  if (check !== "ok") return check;
  if (performance.now() >= deadline) return "timeout";
  return sendOnce(path, payload, deadline);
}

export function newState(kind: Kind): ForwardState {
  return { kind, type: "-", event: "-", session: "-", pid: null };
}
