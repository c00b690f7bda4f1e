// A line client over the unix socket, used by the CLI commands, the launcher and the tests:
// connect with a timeout, write (keeping unsent tails, since Bun's write() is unbuffered), read
// JSON lines with a timeout, handshake, request/response by type, clean close.
import type { Socket } from "bun";
import { LineFramer } from "./framer.ts";

import { PROTOCOL_VERSION } from "../protocol/version.ts";

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

export class ClosedError extends Error {
  constructor() {
    super("connection closed by the daemon");
    this.name = "ClosedError";
  }
}

type Waiter = { resolve: (line: string | null) => void; reject: (err: Error) => void };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export interface ConnectOptions {
  timeoutMs?: number;
  /** Cap on one received line; the default is generous (a session_list of many sessions). */
  maxLineBytes?: number;
}

export class LineClient {
  private readonly lines: string[] = [];
  private readonly waiters: Waiter[] = [];
  private pendingWrite: Uint8Array | null = null;
  private ended = false;
  private error: Error | null = null;
  private closedResolve!: () => void;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  private socket!: Socket<undefined>;
  private framer: LineFramer;

  private constructor(maxLine: number) {
    this.framer = new LineFramer(maxLine);
    this.closed = new Promise((r) => {
      this.closedResolve = r;
    });
  }

  static async connect(path: string, opts: ConnectOptions = {}): Promise<LineClient> {
    const timeoutMs = opts.timeoutMs ?? 1000;
    const client = new LineClient(opts.maxLineBytes ?? 64 * 1024 * 1024);
    const connecting = Bun.connect({
      unix: path,
      socket: {
        binaryType: "uint8array",
        data: (_s, chunk) => client.onData(chunk),
        drain: () => client.flush(),
        end: () => client.onEnd(),
        close: () => client.onEnd(),
        error: (_s, err) => {
          client.error = err;
          client.onEnd();
        },
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError("connect", timeoutMs)), timeoutMs);
    });
    try {
      client.socket = await Promise.race([connecting, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  private onData(chunk: Uint8Array): void {
    this.framer.push(chunk, (line) => this.deliver(decoder.decode(line)));
  }

  private deliver(line: string): void {
    const w = this.waiters.shift();
    if (w) w.resolve(line);
    else this.lines.push(line);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.framer.end((line) => this.deliver(decoder.decode(line)));
    this.ended = true;
    for (const w of this.waiters.splice(0)) w.resolve(null);
    this.closedResolve();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends a message (object → one JSON line) or raw text/bytes exactly as given. */
  send(message: object | string | Uint8Array): void {
    const bytes =
      message instanceof Uint8Array
        ? message
        : encoder.encode(typeof message === "string" ? message : `${JSON.stringify(message)}\n`);
    if (this.pendingWrite) {
      const joined = new Uint8Array(this.pendingWrite.length + bytes.length);
      joined.set(this.pendingWrite);
      joined.set(bytes, this.pendingWrite.length);
      this.pendingWrite = joined;
    } else {
      this.pendingWrite = bytes;
    }
    this.flush();
  }

  /** Resolves when everything sent so far has been handed to the kernel. */
  async flushed(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.pendingWrite && !this.ended) {
      if (performance.now() > deadline) throw new TimeoutError("write", timeoutMs);
      await Bun.sleep(1);
    }
  }

  private flush(): void {
    if (!this.pendingWrite || this.ended) return;
    const n = this.socket.write(this.pendingWrite);
    if (n < 0) return;
    this.pendingWrite = n >= this.pendingWrite.length ? null : this.pendingWrite.subarray(n);
  }

  /** Sends a message with the protocol envelope. */
  request(type: string, fields: Record<string, unknown> = {}): void {
    this.send({ protocol_version: PROTOCOL_VERSION, type, ...fields });
  }

  /** The next raw line, or null once the connection has closed. */
  nextLine(timeoutMs = 5000): Promise<string | null> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.ended) return Promise.resolve(null);
    return new Promise<string | null>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject,
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new TimeoutError("reply", timeoutMs));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next line parsed as JSON, or null once the connection has closed. */
  async next(timeoutMs = 5000): Promise<Record<string, unknown> | null> {
    const line = await this.nextLine(timeoutMs);
    if (line === null) return null;
    return JSON.parse(line) as Record<string, unknown>;
  }

  /** Reads until a message of `type` arrives (others are passed to `onOther`). */
  async expect(type: string, timeoutMs = 5000, onOther?: (m: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(`waiting for ${type}`, timeoutMs);
      const m = await this.next(left);
      if (m === null) throw new ClosedError();
      if (m.type === type) return m;
      onOther?.(m);
    }
  }

  /** connect → connected. Throws when the daemon answers anything else. */
  async handshake(clientId?: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    this.request("connect", clientId === undefined ? {} : { client_id: clientId });
    const m = await this.next(timeoutMs);
    if (m === null) throw new ClosedError();
    if (m.type !== "connected") throw new Error(`unexpected handshake reply: ${JSON.stringify(m)}`);
    return m;
  }

  /** Half-closes our side (the daemon then finishes and closes). */
  end(): void {
    if (!this.ended) this.socket.shutdown();
  }

  close(): void {
    if (!this.ended) this.socket.end();
    this.onEnd();
  }

  /** Hard close (RST-like) for tests. */
  terminate(): void {
    if (!this.ended) this.socket.terminate();
    this.onEnd();
  }
}

/** Connects and handshakes in one step. */
export async function openClient(path: string, clientId?: string, opts: ConnectOptions & { replyTimeoutMs?: number } = {}): Promise<LineClient> {
  const c = await LineClient.connect(path, opts);
  try {
    await c.handshake(clientId, opts.replyTimeoutMs ?? 5000);
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** What answers on a socket: an atmd (its `stats` reply), something else, or nothing. */
export type StatsProbe =
  | { kind: "stats"; stats: Record<string, unknown>; pid: number }
  /** An atmd that refused us for its connection cap (only atmd sends that code). */
  | { kind: "busy" }
  | { kind: "other" }
  | { kind: "none" };

/**
 * Connects, sends `connect` and `stats` in one go and reads the two replies. Used to find the
 * daemon (status, stop, the `start -d` launcher, the start-up path check).
 */
export async function probeStats(
  path: string,
  opts: { connectTimeoutMs: number; replyTimeoutMs: number; clientId: string },
): Promise<StatsProbe> {
  let c: LineClient;
  try {
    c = await LineClient.connect(path, { timeoutMs: opts.connectTimeoutMs });
  } catch {
    return { kind: "none" };
  }
  try {
    c.request("connect", { client_id: opts.clientId });
    c.request("stats");
    const first = await c.next(opts.replyTimeoutMs);
    if (first?.type === "error" && first.code === "too_many_connections") return { kind: "busy" };
    if (first?.type !== "connected") return { kind: "other" };
    const stats = await c.next(opts.replyTimeoutMs);
    if (stats?.type === "stats" && typeof stats.pid === "number") return { kind: "stats", stats, pid: stats.pid };
    return { kind: "other" };
  } catch {
    return { kind: "other" };
  } finally {
    c.close();
  }
}
