// The socket side of the daemon: Bun.listen wiring, per-connection state, the handshake and the
// error matrix of PROTOCOL.md §4/§9, limits and timeouts (§5), and routing of each message to the
// registry. A line's whole effect (registry change, broadcasts, reply) happens inside the callback
// that delivered it; only `discover` is asynchronous, and the connection's later lines wait for it.
import type { Socket, UnixSocketListener } from "bun";
import { MAX_LINE_BYTES, MAX_OUTBOUND_BYTES, MAX_SUBSCRIBERS, texts, type ErrorCode } from "../protocol/errors.ts";
import {
  type ClientMessage,
  type StatsCounters,
  type StatsReply,
  daemon,
  parseLine,
  PROTOCOL_VERSION,
} from "../protocol/messages.ts";
import { idShort } from "../registry/format.ts";
import type { DiscoveredProcess, RegistryEvent, SessionRegistry } from "../registry/types.ts";
import type { Logger } from "../system/log.ts";
import { Broadcaster } from "./broadcast.ts";
import { LineFramer } from "./framer.ts";
import { OutboundQueue } from "./outbound.ts";
import { errorMessage } from "../system/error-text.ts";

export interface Timeouts {
  handshakeMs: number;
  idleMs: number;
  writeStallMs: number;
  /** How often the timeout sweep runs. */
  sweepMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { handshakeMs: 10_000, idleMs: 300_000, writeStallMs: 10_000, sweepMs: 250 };

/** What `stats` needs from the rest of the daemon (PROTOCOL.md §13). */
export interface DaemonInfo {
  version: string;
  pid: number;
  startedAt: string;
  startedAtMs: number;
  rssBytes(): number;
  cpuPercent(): number;
}

export interface ServerOptions {
  socketPath: string;
  registry: SessionRegistry;
  log: Logger;
  info: DaemonInfo;
  maxConnections: number;
  /** Wall clock in ms since the epoch, with a fraction. */
  now: () => number;
  /** Finds running Claude processes (SESSIONS.md §12); called for `discover` and at start-up. */
  scan: () => Promise<DiscoveredProcess[]>;
  timeouts?: Partial<Timeouts>;
}

type ConnState = "accepted" | "connected" | "closing" | "closed";

/** A refused connection is closed this long after its error line, at most this many at once. */
const REFUSED_CLOSE_DELAY_MS = 100;
const MAX_REFUSED_PENDING = 1024;

const encoder = new TextEncoder();
const SLOW_CONSUMER_LINE = encoder.encode(daemon.error(texts.slowConsumer, "slow_consumer"));

/** One accepted connection. */
export class Connection {
  state: ConnState = "accepted";
  clientId = "";
  readonly framer = new LineFramer(MAX_LINE_BYTES);
  readonly out: OutboundQueue;
  /** performance.now() of accept / of the last received byte. */
  readonly acceptedAt: number;
  lastReceived: number;
  /** A discover is running for this connection: its later lines wait in `inbox`. */
  busy = false;
  inbox: Uint8Array[] = [];
  overflowPending = false;
  peerEnded = false;

  constructor(
    readonly number: number,
    readonly socket: Socket<Connection | null>,
    onFlushed: (c: Connection) => void,
  ) {
    this.acceptedAt = performance.now();
    this.lastReceived = this.acceptedAt;
    this.out = new OutboundQueue(
      (bytes) => socket.write(bytes),
      MAX_OUTBOUND_BYTES,
      (flush) =>
        queueMicrotask(() => {
          try {
            flush();
            onFlushed(this);
          } catch {
            // A socket that throws on write/end is gone: drop it rather than the daemon
            // (terminate fires `close` at once, which forgets the connection).
            socket.terminate();
          }
        }),
    );
  }

  get open(): boolean {
    return this.state === "accepted" || this.state === "connected";
  }
}

export class Server {
  private listener: UnixSocketListener<Connection | null> | null = null;
  private readonly conns = new Set<Connection>();
  private readonly broadcaster: Broadcaster<Connection>;
  private nextNumber = 0;
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private discoveryChain: Promise<unknown> = Promise.resolve();
  private readonly timeouts: Timeouts;
  private stopping = false;
  private refusedPending = 0;
  /** Monotonic start time for uptime (the wall clock may jump). */
  private readonly startedPerf = performance.now();
  readonly counters: Omit<StatsCounters, "sessions_created" | "sessions_removed"> = {
    connections_accepted: 0,
    connections_refused: 0,
    messages_in: 0,
    status_updates: 0,
    hook_events: 0,
    unknown_hook_events: 0,
    errors_sent: 0,
    broadcasts: 0,
    slow_consumers_dropped: 0,
  };

  constructor(private readonly opts: ServerOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.broadcaster = new Broadcaster<Connection>(MAX_SUBSCRIBERS);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get subscriberCount(): number {
    return this.broadcaster.size;
  }

  /** Binds the socket (the caller has set the umask and checked the path). Throws on failure. */
  listen(): void {
    const self = this;
    this.listener = Bun.listen<Connection | null>({
      unix: this.opts.socketPath,
      allowHalfOpen: true,
      data: null,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          self.guard(socket, "open", () => self.onOpen(socket));
        },
        data(socket, chunk) {
          self.guard(socket, "data", () => self.onData(socket, chunk));
        },
        drain(socket) {
          self.guard(socket, "drain", () => {
            const c = socket.data;
            if (c) {
              c.out.onDrain();
              self.afterFlush(c);
            }
          });
        },
        end(socket) {
          self.guard(socket, "end", () => self.onEnd(socket));
        },
        close(socket) {
          self.onClose(socket);
        },
        error(socket, err) {
          self.opts.log.debug(`connection ${socket.data?.number ?? "?"}: socket error: ${err.message}`);
          self.onClose(socket);
        },
      },
    });
    this.sweepTimer = setInterval(() => this.sweep(), this.timeouts.sweepMs);
  }

  /** Graceful stop, steps 1 and 3 of DAEMON.md §8 (the caller removes the socket file). */
  stopAccepting(): void {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    // stop(false): stop accepting, keep the open connections so their queues can drain.
    this.listener?.stop(false);
    this.listener = null;
    for (const c of this.conns) c.socket.pause();
  }

  /** Resolves once every outbound queue is empty, or after `ms`. */
  async drain(ms: number, abort: Promise<void>): Promise<void> {
    const deadline = performance.now() + ms;
    let aborted = false;
    void abort.then(() => {
      aborted = true;
    });
    for (const c of this.conns) c.out.flush();
    while (!aborted && performance.now() < deadline && [...this.conns].some((c) => !c.out.isEmpty)) {
      await Bun.sleep(10);
    }
  }

  /** Closes every connection at once. */
  closeAll(): void {
    for (const c of [...this.conns]) this.drop(c);
  }

  /** Runs a discovery scan outside any connection (start-up). */
  discoverInBackground(): void {
    void this.runDiscovery().then(
      (r) => this.opts.log.info(`discovery: ${r.discovered} new session${r.discovered === 1 ? "" : "s"}, ${r.failed} failed`),
      (err: unknown) => this.opts.log.warn(`discovery failed: ${errorMessage(err)}`),
    );
  }

  /**
   * Broadcasts registry events (a connection's message, the cleanup tick, the git refresh) and
   * logs the sessions that came, went or got their id meanwhile (DAEMON.md §9).
   */
  publish(events: readonly RegistryEvent[]): void {
    this.logLifecycle();
    this.counters.broadcasts += events.length;
    for (const dropped of this.broadcaster.publish(events, SLOW_CONSUMER_LINE)) this.slowConsumer(dropped);
  }

  private logLifecycle(): void {
    const { log, registry } = this.opts;
    for (const n of registry.takeLifecycle()) {
      if (n.kind === "created") log.info(`session ${idShort(n.id)} created (pid ${n.pid}, from ${n.by})`);
      else if (n.kind === "renamed") log.info(`session ${idShort(n.from)} is now ${idShort(n.id)} (pid ${n.pid})`);
      else log.info(`session ${idShort(n.id)} removed (pid ${n.pid}, ${n.reason})`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Socket events

  private guard(socket: Socket<Connection | null>, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A bug must cost one connection, never the daemon (PROTOCOL.md §9, internal_error).
      this.opts.log.error(`internal error in ${what} handler: ${errorMessage(err)}`);
      const c = socket.data;
      if (c?.open) {
        this.sendError(c, texts.internalError(errorMessage(err)), "internal_error");
        this.closeConnection(c);
      } else if (!c) {
        socket.terminate();
      }
    }
  }

  private onOpen(socket: Socket<Connection | null>): void {
    const number = this.nextNumber++;
    this.counters.connections_accepted++;
    if (this.stopping || this.conns.size >= this.opts.maxConnections) {
      this.counters.connections_refused++;
      this.counters.errors_sent++;
      socket.data = null;
      this.opts.log.debug(`connection ${number}: refused (connection cap ${this.opts.maxConnections})`);
      socket.write(daemon.error(texts.tooManyConnections(this.opts.maxConnections), "too_many_connections"));
      // Closing in the same tick makes many clients (Bun's among them) fail their connect with
      // ECONNRESET before they can read the line; give them a moment, within a bound.
      if (this.refusedPending >= MAX_REFUSED_PENDING) {
        socket.end();
        return;
      }
      this.refusedPending++;
      setTimeout(() => {
        this.refusedPending--;
        socket.end();
      }, REFUSED_CLOSE_DELAY_MS);
      return;
    }
    const c = new Connection(number, socket, (conn) => this.afterFlush(conn));
    socket.data = c;
    this.conns.add(c);
    this.opts.log.debug(`connection ${number}: accepted`);
  }

  private onData(socket: Socket<Connection | null>, chunk: Uint8Array): void {
    const c = socket.data;
    if (!c || !c.open || this.stopping) return;
    c.lastReceived = performance.now();
    const result = c.framer.push(chunk, (line) => this.onLine(c, line));
    if (result === "overflow") {
      if (c.busy) c.overflowPending = true;
      else this.tooLarge(c);
    }
  }

  private onLine(c: Connection, line: Uint8Array): void {
    if (!c.open) return;
    if (c.busy) {
      c.inbox.push(line.slice());
      return;
    }
    this.handleLine(c, line);
  }

  private onEnd(socket: Socket<Connection | null>): void {
    const c = socket.data;
    if (!c) {
      socket.end();
      return;
    }
    c.peerEnded = true;
    if (c.busy) return; // finished when the discover completes
    this.finishEnded(c);
  }

  private finishEnded(c: Connection): void {
    if (c.open) c.framer.end((line) => this.onLine(c, line));
    if (c.busy) return;
    this.closeConnection(c); // ends the subscription too
  }

  private onClose(socket: Socket<Connection | null>): void {
    const c = socket.data;
    if (!c) return;
    if (c.state !== "closed") this.opts.log.debug(`connection ${c.number}: closed`);
    this.forget(c);
  }

  /** The connection is over: no queue, no subscription, not counted. */
  private forget(c: Connection): void {
    c.state = "closed";
    c.out.close();
    this.broadcaster.remove(c);
    this.conns.delete(c);
  }

  /** After a flush: a closing connection whose queue is empty is ended now. */
  private afterFlush(c: Connection): void {
    if (c.state === "closing" && c.out.isEmpty) {
      this.forget(c);
      c.socket.end();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lines

  private handleLine(c: Connection, line: Uint8Array): void {
    const parsed = parseLine(line);
    if (parsed.kind === "ignore") return;
    this.counters.messages_in++;
    try {
      if (c.state === "accepted") this.handshake(c, parsed);
      else this.afterHandshake(c, parsed);
    } catch (err) {
      this.opts.log.error(`connection ${c.number}: internal error: ${errorMessage(err)}`);
      this.sendError(c, texts.internalError(errorMessage(err)), "internal_error");
      this.closeConnection(c);
    }
  }

  private handshake(c: Connection, p: ReturnType<typeof parseLine>): void {
    switch (p.kind) {
      case "invalid_json":
        return this.refuse(c, p.message, "invalid_json");
      case "invalid":
        return this.refuse(c, p.message, "bad_handshake");
      case "version":
        this.reply(c, daemon.rejected(p.major, p.minor));
        this.opts.log.debug(`connection ${c.number}: rejected protocol ${p.major}.${p.minor}`);
        return this.closeConnection(c);
      case "unknown_type":
        return this.refuse(c, texts.unknownType(p.type), "bad_handshake");
      case "bad_fields":
        return this.refuse(c, p.type === "connect" ? p.message : texts.expectedConnect, "bad_handshake");
      case "message":
        if (p.message.type !== "connect") return this.refuse(c, texts.expectedConnect, "bad_handshake");
        c.clientId = p.message.client_id ?? `client-${c.number}`;
        c.state = "connected";
        this.reply(c, daemon.connected(c.clientId));
        this.opts.log.debug(`connection ${c.number}: handshake ok, client id ${JSON.stringify(c.clientId)}`);
        return;
      case "ignore":
        return;
    }
  }

  private refuse(c: Connection, message: string, code: ErrorCode): void {
    this.sendError(c, message, code);
    this.closeConnection(c);
  }

  private afterHandshake(c: Connection, p: ReturnType<typeof parseLine>): void {
    switch (p.kind) {
      case "invalid_json":
        return this.sendError(c, p.message, "invalid_json");
      case "invalid":
        return this.sendError(c, p.message, "invalid_message");
      case "version":
        return this.sendError(c, texts.versionMismatch(p.major, p.minor), "version_mismatch");
      case "unknown_type":
        return this.sendError(c, texts.unknownType(p.type), "unknown_type");
      case "bad_fields":
        return this.sendError(c, p.message, "invalid_message");
      case "message":
        return this.dispatch(c, p.message);
      case "ignore":
        return;
    }
  }

  private dispatch(c: Connection, m: ClientMessage): void {
    const { registry } = this.opts;
    switch (m.type) {
      case "connect":
        return this.sendError(c, texts.alreadyConnected, "already_connected");
      case "status_update":
      case "hook_event": {
        const now = this.opts.now();
        const result = m.type === "status_update" ? registry.statusUpdate(m.data, now) : registry.hookEvent(m.data, now);
        this.publish(result.events);
        if (result.error) {
          if (result.error.code === "registry_full") this.opts.log.warn(`registry full: ${result.error.message}`);
          this.sendError(c, result.error.message, result.error.code);
        } else if (m.type === "status_update") {
          this.counters.status_updates++;
        } else {
          this.counters.hook_events++;
          if (result.unknownHook) this.counters.unknown_hook_events++;
        }
        return;
      }
      case "list_sessions":
        return this.reply(c, daemon.sessionList(registry.list(this.opts.now())));
      case "subscribe": {
        if (!this.broadcaster.has(c) && this.broadcaster.size >= this.broadcaster.max) {
          return this.sendError(c, texts.tooManySubscribers, "too_many_subscribers");
        }
        // Snapshot and registration in one synchronous step: nothing can slip in between.
        const now = this.opts.now();
        const sessions = m.session_id === null ? registry.list(now) : optional(registry.view(m.session_id, now));
        this.reply(c, daemon.sessionList(sessions));
        if (!c.open) return; // the list itself overflowed the queue: the connection is closing
        this.broadcaster.add(c, m.session_id);
        return;
      }
      case "unsubscribe":
        if (this.broadcaster.has(c)) {
          this.broadcaster.remove(c);
          c.lastReceived = performance.now(); // the idle clock restarts (PROTOCOL.md §5)
        }
        return;
      case "ping":
        return this.reply(c, daemon.pong(m.seq));
      case "disconnect":
        return this.closeConnection(c);
      case "discover":
        return this.startDiscover(c);
      case "stats":
        return this.reply(c, daemon.stats(this.stats()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // discover: the only asynchronous request

  private startDiscover(c: Connection): void {
    c.busy = true;
    c.socket.pause();
    void this.runDiscovery().then(
      (r) => {
        // During shutdown the scan was aborted: nothing extra is sent (DAEMON.md §8 step 3).
        if (c.open && !this.stopping) this.reply(c, daemon.discoveryComplete(r.discovered, r.failed));
      },
      (err: unknown) => {
        this.opts.log.warn(`discovery failed: ${errorMessage(err)}`);
        if (c.open && !this.stopping) this.reply(c, daemon.discoveryComplete(0, 0));
      },
    ).finally(() => {
      c.busy = false;
      c.lastReceived = performance.now(); // the idle clock was paused while we worked
      this.resumeConnection(c);
    });
  }

  /** Scans never overlap: each waits for the previous one (PROTOCOL.md §7.8). */
  private runDiscovery(): Promise<{ discovered: number; failed: number }> {
    const run = this.discoveryChain.then(async () => {
      const procs = await this.opts.scan();
      // registry.discovered skips pids it already tracks.
      const result = this.opts.registry.discovered(procs, this.opts.now());
      this.publish(result.events);
      return { discovered: result.discovered, failed: result.failed };
    });
    this.discoveryChain = run.catch(() => undefined);
    return run;
  }

  private resumeConnection(c: Connection): void {
    if (!c.open) return;
    if (this.stopping) {
      c.inbox = []; // shutting down: stop reading, lines not yet handled are dropped
      return;
    }
    while (c.inbox.length > 0 && !c.busy && c.open) {
      const line = c.inbox.shift() as Uint8Array;
      this.handleLine(c, line);
    }
    if (c.busy || !c.open) return;
    if (c.overflowPending) return this.tooLarge(c);
    if (c.peerEnded) return this.finishEnded(c);
    if (!this.stopping) c.socket.resume();
  }

  // -------------------------------------------------------------------------------------------
  // Writing and closing

  private reply(c: Connection, line: string): void {
    if (!c.open) return;
    const result = c.out.enqueue(encoder.encode(line), SLOW_CONSUMER_LINE);
    if (result === "overflow") this.slowConsumer(c);
  }

  private sendError(c: Connection, message: string, code: ErrorCode): void {
    if (!c.open) return;
    this.counters.errors_sent++;
    this.opts.log.debug(`connection ${c.number}: error ${code}`);
    this.reply(c, daemon.error(message, code));
  }

  private tooLarge(c: Connection): void {
    this.sendError(c, texts.messageTooLarge, "message_too_large");
    this.closeConnection(c);
  }

  private slowConsumer(c: Connection): void {
    if (c.state === "closing" || c.state === "closed") return;
    this.counters.slow_consumers_dropped++;
    this.counters.errors_sent++;
    this.opts.log.warn(`connection ${c.number} (${c.clientId}): slow consumer, more than ${MAX_OUTBOUND_BYTES} bytes queued; closing`);
    this.closeConnection(c);
  }

  /** Stop reading; close once what is queued has been handed to the kernel. */
  private closeConnection(c: Connection): void {
    if (!c.open) return;
    c.state = "closing";
    c.inbox = [];
    this.broadcaster.remove(c);
    if (c.out.isEmpty) this.afterFlush(c);
  }

  // -------------------------------------------------------------------------------------------
  // Timeouts: one sweep instead of per-socket timers (Bun's socket.timeout is a one-shot deadline)

  private sweep(): void {
    const t = performance.now();
    const { handshakeMs, idleMs, writeStallMs } = this.timeouts;
    for (const c of [...this.conns]) {
      try {
        if (c.out.nonEmptySince !== null && t - c.out.nonEmptySince >= writeStallMs) {
          // A connection already cut off by the 8 MiB rule was counted then.
          if (!c.out.hasOverflowed) this.counters.slow_consumers_dropped++;
          this.opts.log.warn(`connection ${c.number} (${c.clientId}): write stalled for ${writeStallMs / 1000} s; closing`);
          this.drop(c);
        } else if (c.state === "accepted" && t - c.acceptedAt >= handshakeMs) {
          this.opts.log.debug(`connection ${c.number}: no handshake within ${handshakeMs / 1000} s; closing`);
          this.closeConnection(c);
        } else if (c.state === "connected" && !this.broadcaster.has(c) && !c.busy && t - c.lastReceived >= idleMs) {
          this.opts.log.debug(`connection ${c.number}: idle for ${idleMs / 1000} s; closing`);
          this.closeConnection(c);
        } else if (c.state === "closing" && c.out.isEmpty) {
          this.afterFlush(c);
        }
      } catch (err) {
        this.opts.log.error(`sweep: ${errorMessage(err)}`);
      }
    }
  }

  /** Closes at once, discarding anything queued. */
  private drop(c: Connection): void {
    this.forget(c);
    c.socket.terminate();
  }

  // -------------------------------------------------------------------------------------------

  private stats(): StatsReply {
    const { info, registry } = this.opts;
    return {
      version: info.version,
      protocol_version: PROTOCOL_VERSION,
      pid: info.pid,
      socket: this.opts.socketPath,
      started_at: info.startedAt,
      uptime_seconds: Math.max(0, Math.floor((performance.now() - this.startedPerf) / 1000)),
      sessions: registry.size,
      max_sessions: registry.maxSessions,
      connections: this.conns.size,
      max_connections: this.opts.maxConnections,
      subscribers: this.broadcaster.size,
      max_subscribers: this.broadcaster.max,
      counters: {
        ...this.counters,
        sessions_created: registry.counters.sessionsCreated,
        sessions_removed: registry.counters.sessionsRemoved,
      },
      rss_bytes: info.rssBytes(),
      cpu_percent: info.cpuPercent(),
    };
  }
}

function optional<T>(x: T | undefined): T[] {
  return x === undefined ? [] : [x];
}


