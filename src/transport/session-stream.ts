// Client-side helpers for the CLI commands (DAEMON.md §6), built on LineClient:
// * `requestOnce`: connect (1 s), handshake as `atmd-cli`, one request, its reply (5 s), clean close;
// * `SessionStream`: a subscription that survives the daemon going away — it reconnects with
//   back-off (1 s doubling to 30 s), subscribes again and hands every received line on;
// * `SessionSet`: the client's copy of the registry, kept by applying session_list /
//   session_updated / session_removed the way the reference TUI does (SESSIONS.md §15).
import { parseJsonObject } from "../protocol/json.ts";
import { errorMessage } from "../system/error-text.ts";
import { LineClient, TimeoutError } from "./client.ts";

export const CLIENT_ID = "atmd-cli";
export const CONNECT_TIMEOUT_MS = 1000;
export const REPLY_TIMEOUT_MS = 5000;
export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;

export const NOT_RUNNING = "Daemon is not running (start it with 'atmd start -d').";

export type FailureKind =
  /** Nothing accepted the connection (no socket, refused, connect timeout). */
  | "down"
  /** Connected, but no reply in time. */
  | "timeout"
  /** Something answered, but not as atmd does (rejected, error, garbage, closed). */
  | "unexpected";

export class DaemonError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = "DaemonError";
  }
}

/** The one-line message a client command prints for a failure (no stack trace). */
export function failureMessage(e: unknown, socket: string): string {
  if (e instanceof DaemonError) {
    if (e.kind === "down") return NOT_RUNNING;
    if (e.kind === "timeout") return `atmd: the daemon on ${socket} did not answer in time; check it with 'atmd status'.`;
    return `atmd: ${e.message}`;
  }
  return `atmd: ${errorMessage(e)}`;
}


/** Connects and handshakes; returns the client and the raw `connected` line. */
export async function connectCli(
  socket: string,
  opts: { connectTimeoutMs?: number; replyTimeoutMs?: number } = {},
): Promise<{ client: LineClient; connectedLine: string }> {
  let client: LineClient;
  try {
    client = await LineClient.connect(socket, { timeoutMs: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS });
  } catch (e) {
    throw new DaemonError("down", errorMessage(e));
  }
  try {
    client.request("connect", { client_id: CLIENT_ID });
    const line = await readLine(client, opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS);
    const m = parseJsonObject(line);
    if (m?.type !== "connected") {
      const what = m?.type === "rejected" || m?.type === "error" ? String(m.reason ?? m.message) : "an unexpected reply";
      throw new DaemonError("unexpected", `the daemon on ${socket} refused the connection: ${what}`);
    }
    return { client, connectedLine: line };
  } catch (e) {
    client.close();
    throw e;
  }
}

async function readLine(client: LineClient, timeoutMs: number): Promise<string> {
  let line: string | null;
  try {
    line = await client.nextLine(timeoutMs);
  } catch (e) {
    if (e instanceof TimeoutError) throw new DaemonError("timeout", e.message);
    throw e;
  }
  if (line === null) throw new DaemonError("unexpected", "the daemon closed the connection without answering");
  return line;
}

/**
 * One request and its reply: connect, handshake, send `type`, read until a `replyType` message
 * (an `error` reply fails), then `disconnect` and close. Returns the reply line unchanged and
 * parsed.
 */
export async function requestOnce(
  socket: string,
  type: string,
  replyType: string,
  opts: { connectTimeoutMs?: number; replyTimeoutMs?: number } = {},
): Promise<{ line: string; message: Record<string, unknown> }> {
  const replyTimeoutMs = opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS;
  const { client } = await connectCli(socket, opts);
  try {
    client.request(type);
    const deadline = performance.now() + replyTimeoutMs;
    for (;;) {
      const line = await readLine(client, Math.max(1, deadline - performance.now()));
      const m = parseJsonObject(line);
      if (m?.type === replyType) {
        client.request("disconnect");
        return { line, message: m };
      }
      if (m?.type === "error") {
        throw new DaemonError("unexpected", `the daemon on ${socket} answered '${type}' with an error: ${String(m.message)}`);
      }
      // Anything else (a broadcast on a reused connection, say) is not our reply: keep reading.
    }
  } finally {
    client.close();
  }
}

export interface StreamHandlers {
  /** Every line received, the handshake's `connected` included, unchanged; `message` is its parse. */
  onLine(line: string, message: Record<string, unknown> | null): void;
  /** A connection is up and subscribed (its session_list follows through onLine). */
  onConnected?(): void;
  /** The connection was lost (or the first attempt failed); called once per outage. */
  onDisconnected?(): void;
}

export interface StreamOptions {
  /** Subscribe to one session only. */
  sessionId?: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A subscription that reconnects by itself until `stop()`. */
export class SessionStream {
  private client: LineClient | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private inOutage = false;
  private delay: number;

  constructor(
    readonly socket: string,
    private readonly handlers: StreamHandlers,
    private readonly opts: StreamOptions = {},
  ) {
    this.delay = opts.initialBackoffMs ?? BACKOFF_INITIAL_MS;
  }

  get connected(): boolean {
    return this.client !== null && !this.client.isClosed;
  }

  /** One connection attempt: connect, handshake, subscribe. Throws DaemonError on failure. */
  async open(): Promise<void> {
    const { client, connectedLine } = await connectCli(this.socket);
    if (this.stopped) {
      client.close();
      return;
    }
    this.client = client;
    this.handlers.onLine(connectedLine, parseJsonObject(connectedLine));
    client.request("subscribe", this.opts.sessionId === undefined ? {} : { session_id: this.opts.sessionId });
    this.inOutage = false;
    this.delay = this.opts.initialBackoffMs ?? BACKOFF_INITIAL_MS;
    this.handlers.onConnected?.();
  }

  /**
   * Streams until `stop()`: reads the current connection (opening one first if needed), and after
   * every loss waits (1 s, 2 s, 4 s … 30 s) and tries again. Resolves only after `stop()`.
   */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.connected) {
        try {
          await this.open();
        } catch {
          this.outage();
          await this.backoff();
          continue;
        }
        if (this.stopped) break;
      }
      await this.pump();
      this.client?.close();
      this.client = null;
      if (this.stopped) break;
      this.outage();
      await this.backoff();
    }
  }

  private async backoff(): Promise<void> {
    await this.sleep(this.delay);
    this.delay = Math.min(this.delay * 2, this.opts.maxBackoffMs ?? BACKOFF_MAX_MS);
  }

  private outage(): void {
    if (this.inOutage || this.stopped) return;
    this.inOutage = true;
    this.handlers.onDisconnected?.();
  }

  /** Hands on lines until the connection ends. */
  private async pump(): Promise<void> {
    const client = this.client;
    if (!client) return;
    let subscribed = false;
    for (;;) {
      let line: string | null;
      try {
        // Subscribed connections never idle out; the timeout only bounds one wait.
        line = await client.nextLine(60_000);
      } catch (e) {
        if (e instanceof TimeoutError) continue;
        return;
      }
      if (line === null || this.stopped) return;
      const m = parseJsonObject(line);
      this.handlers.onLine(line, m);
      if (m?.type === "session_list") subscribed = true;
      // A refused subscription (too many subscribers) leaves us connected but deaf: drop the
      // connection and retry later like any other outage.
      if (!subscribed && m?.type === "error") return;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Ends the stream: closes the connection and wakes any back-off wait. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client?.request("disconnect");
    this.client?.close();
    this.wake?.();
  }
}

/** The client's copy of the sessions, in insertion order, updated from daemon messages. */
export class SessionSet<V extends { id: string }> {
  readonly byId = new Map<string, V>();

  constructor(private readonly toView: (raw: unknown) => V | null) {}

  /** Applies one message; true when the set changed (or was replaced). */
  apply(m: Record<string, unknown>): boolean {
    switch (m.type) {
      case "session_list": {
        this.byId.clear();
        if (Array.isArray(m.sessions)) {
          for (const raw of m.sessions) {
            const v = this.toView(raw);
            if (v) this.byId.set(v.id, v);
          }
        }
        return true;
      }
      case "session_updated": {
        const v = this.toView(m.session);
        if (!v) return false;
        this.byId.set(v.id, v);
        return true;
      }
      case "session_removed":
        return typeof m.session_id === "string" && this.byId.delete(m.session_id);
      default:
        return false;
    }
  }

  get views(): V[] {
    return [...this.byId.values()];
  }
}
