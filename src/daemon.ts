// The composition root: reads the settings, takes the lock, binds the socket, writes the PID
// file, starts the periodic work and discovery, and shuts everything down on a signal
// (DAEMON.md §4.1, §7, §8, §9). Everything here runs only when `atmd start` calls runDaemon().
import { linkSync, lstatSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { Registry } from "./registry/registry.ts";
import type { DiscoveredProcess } from "./registry/types.ts";
import { scanClaudeProcesses } from "./system/discovery.ts";
import { alreadyRunning, errorCode } from "./system/error-text.ts";
import { acquireLock, releaseLock } from "./system/lock.ts";
import { isLogLevel, Logger, type LogLevel } from "./system/log.ts";
import { socketPath, statePaths } from "./system/paths.ts";
import { checkSocketPath } from "./system/socket-path.ts";
import { formatTimestamp, nowMs } from "./system/time.ts";
import { DEFAULT_TIMEOUTS, Server, type Timeouts } from "./transport/server.ts";
import { VERSION } from "./version.ts";

type Env = Record<string, string | undefined>;

export interface DaemonConfig {
  socket: string;
  maxSessions: number;
  maxConnections: number;
  unverifiedTtlSecs: number;
  discovery: boolean;
  logLevel: LogLevel;
  timeouts: Timeouts;
}

/** Reads DAEMON.md §7's settings; an invalid value is a warning and the default is used. */
export function readConfig(env: Env, warn: (msg: string) => void): DaemonConfig {
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      warn(`invalid ${name}=${JSON.stringify(raw)} (expected an integer ${min}-${max}); using ${def}`);
      return def;
    }
    return n;
  };
  let logLevel: LogLevel = "info";
  const rawLevel = env.ATM_LOG_LEVEL;
  if (rawLevel !== undefined && rawLevel !== "") {
    const l = rawLevel.toLowerCase();
    if (isLogLevel(l)) logLevel = l;
    else warn(`invalid ATM_LOG_LEVEL=${JSON.stringify(rawLevel)} (expected error, warn, info or debug); using info`);
  }
  const noDiscovery = env.ATM_NO_DISCOVERY;
  return {
    socket: socketPath(env),
    maxSessions: int("ATM_MAX_SESSIONS", 100, 1, 100_000),
    maxConnections: int("ATM_MAX_CONNECTIONS", 256, 1, 65_535),
    unverifiedTtlSecs: int("ATM_UNVERIFIED_TTL_SECS", 1800, 1, Number.MAX_SAFE_INTEGER),
    discovery: noDiscovery === undefined || noDiscovery === "0",
    logLevel,
    timeouts: testTimeouts(env.ATMD_TEST_TIMEOUTS_MS, warn),
  };
}

/**
 * `ATMD_TEST_TIMEOUTS_MS="handshake=200,idle=500,stall=300,sweep=50"` shortens the protocol's
 * timeouts so the test suite can observe them in real time. Not a user setting.
 */
function testTimeouts(raw: string | undefined, warn: (msg: string) => void): Timeouts {
  const t = { ...DEFAULT_TIMEOUTS };
  if (!raw) return t;
  const keys: Record<string, keyof Timeouts> = { handshake: "handshakeMs", idle: "idleMs", stall: "writeStallMs", sweep: "sweepMs" };
  for (const part of raw.split(",")) {
    const [k, v] = part.split("=");
    const key = k === undefined ? undefined : keys[k.trim()];
    const n = Number(v);
    if (key === undefined || !Number.isFinite(n) || n <= 0) warn(`ignoring ATMD_TEST_TIMEOUTS_MS part ${JSON.stringify(part)}`);
    else t[key] = n;
  }
  return t;
}

/** Resident memory and CPU use, sampled every 60 s (DAEMON.md §9, PROTOCOL.md §13). */
class SelfMonitor {
  private windowStart = { t: performance.now(), cpu: process.cpuUsage() };
  private lastPercent: number | null = null;
  constructor(private readonly log: Logger) {}

  cpuPercent(): number {
    if (this.lastPercent !== null) return this.lastPercent;
    return this.percentSince(this.windowStart);
  }

  private percentSince(from: { t: number; cpu: NodeJS.CpuUsage }): number {
    const elapsedUs = (performance.now() - from.t) * 1000;
    if (elapsedUs <= 0) return 0;
    const used = process.cpuUsage(from.cpu);
    const p = ((used.user + used.system) / elapsedUs) * 100;
    return Number.isFinite(p) ? Math.round(p * 100) / 100 : 0;
  }

  sample(): void {
    const rss = process.memoryUsage().rss;
    const first = this.lastPercent === null && performance.now() - this.windowStart.t < 1000;
    if (!first) this.lastPercent = this.percentSince(this.windowStart);
    this.windowStart = { t: performance.now(), cpu: process.cpuUsage() };
    const mib = rss / 1048576;
    if (mib > 100) this.log.warn(`high memory use: ${Math.round(mib)} MiB`);
    else if ((this.lastPercent ?? 0) > 80) this.log.warn(`high CPU use: ${this.lastPercent}%`);
    else this.log.debug(`self-monitor: rss ${mib.toFixed(1)} MiB, cpu ${this.lastPercent ?? 0}%`);
  }
}

export interface DaemonHandle {
  /** Resolves with the exit status once the daemon has shut down. */
  done: Promise<number>;
}

/** Runs the daemon in this process. Resolves to the exit status (0 after a graceful stop). */
export async function runDaemon(env: Env = process.env): Promise<number> {
  const log = new Logger("info");
  const warnings: string[] = [];
  const config = readConfig(env, (w) => warnings.push(w));
  log.level = config.logLevel;
  for (const w of warnings) log.warn(w);

  const paths = statePaths(env);
  const fail = (message: string): number => {
    process.stderr.write(`${message}\n`);
    return 1;
  };

  // 2. State directory.
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return fail(`atmd: cannot write ${paths.dir}: ${(e as Error).message}`);
  }

  // 3. Lock.
  let lock;
  try {
    lock = acquireLock(paths.lockFile, process.pid, { reentrant: true });
  } catch (e) {
    return fail(`atmd: cannot write ${paths.lockFile}: ${(e as Error).message}`);
  }
  if (!lock.ok) {
    const pid = lock.holder?.pid;
    return fail(alreadyRunning(pid === undefined ? "" : ` (PID ${pid})`));
  }
  const undo: Array<() => void> = [() => releaseLock(paths.lockFile)];
  const undoAll = () => {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        /* best effort */
      }
    }
  };

  // 4. Socket path, bind with umask 0177.
  let check = await checkSocketPath(config.socket);
  if (check.kind === "running" && check.pid === process.pid) {
    // Our own earlier incarnation in this process (`bun --watch` restarts in place): replace it.
    try {
      unlinkSync(config.socket);
    } catch {
      /* gone */
    }
    check = { kind: "ready" };
  }
  if (check.kind !== "ready") {
    undoAll();
    if (check.kind === "running") return fail(alreadyRunning(` (PID ${check.pid})`));
    if (check.kind === "foreign") return fail(`Another daemon is already listening on ${config.socket}\nUse 'atmd stop' to stop it first.`);
    if (check.kind === "busy") {
      return fail(alreadyRunning(` on ${config.socket} (it is at its connection cap)`));
    }
    return fail(check.message);
  }

  const startedAtMs = nowMs();
  const monitor = new SelfMonitor(log);
  const registry = new Registry({ maxSessions: config.maxSessions, unverifiedTtlMs: config.unverifiedTtlSecs * 1000 });
  const scanAbort = new AbortController();
  const server = new Server({
    socketPath: config.socket,
    registry,
    log,
    maxConnections: config.maxConnections,
    now: nowMs,
    scan: (): Promise<DiscoveredProcess[]> => scanClaudeProcesses({ signal: scanAbort.signal }),
    timeouts: config.timeouts,
    info: {
      version: VERSION,
      pid: process.pid,
      startedAt: formatTimestamp(startedAtMs),
      startedAtMs,
      rssBytes: () => process.memoryUsage().rss,
      cpuPercent: () => monitor.cpuPercent(),
    },
  });

  const oldMask = process.umask(0o177);
  try {
    server.listen();
  } catch (e) {
    undoAll();
    return fail(`atmd: cannot listen on ${config.socket}: ${errorCode(e)}`);
  } finally {
    process.umask(oldMask);
  }
  let bound: { dev: number; ino: number } | null = null;
  try {
    const st = lstatSync(config.socket);
    bound = { dev: st.dev, ino: st.ino };
  } catch {
    bound = null;
  }
  undo.push(() => removeSocketIfOurs(config.socket, bound, () => server.stopAccepting()));

  // 5. PID file: decimal, no newline (the reference TUI reads it).
  try {
    writeFileSync(paths.pidFile, String(process.pid), { mode: 0o600 });
  } catch (e) {
    undoAll();
    return fail(`atmd: cannot write ${paths.pidFile}: ${(e as Error).message}`);
  }
  undo.push(() => unlinkSync(paths.pidFile));

  // 6. Periodic work, each once right away.
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const cleanup = periodic("cleanup tick", () => registry.cleanup(nowMs), (events) => server.publish(events), log);
  const refreshGit = periodic("git refresh", () => registry.refreshGit(nowMs), (events) => server.publish(events), log);
  cleanup();
  refreshGit();
  monitor.sample();
  timers.push(setInterval(cleanup, 2000), setInterval(refreshGit, 5000), setInterval(() => monitor.sample(), 60_000));

  // 7. Discovery in the background; connections are already accepted.
  if (config.discovery) server.discoverInBackground();

  log.info(`atmd ${VERSION} listening on ${config.socket} (pid ${process.pid})`);

  // Signals and graceful shutdown (DAEMON.md §8).
  return await new Promise<number>((resolveExit) => {
    let shuttingDown = false;
    let secondSignal: () => void = () => {};
    const abortFlush = new Promise<void>((r) => {
      secondSignal = r;
    });
    const shutdown = async (signal: string) => {
      if (shuttingDown) {
        secondSignal();
        return;
      }
      shuttingDown = true;
      try {
        // 1. Stop accepting and remove the socket file, at once.
        removeSocketIfOurs(config.socket, bound, () => server.stopAccepting());
        // 2. Periodic work and any running discovery.
        for (const t of timers) clearInterval(t);
        scanAbort.abort(); // never replaced: any later scan in this process starts aborted
        // 3. At most 1 s for the outbound queues, then close everything.
        await server.drain(1000, abortFlush);
        server.closeAll();
      } catch (e) {
        log.error(`shutdown: ${(e as Error).message}`);
      }
      // 4. PID file and lock.
      for (const f of [paths.pidFile]) {
        try {
          unlinkSync(f);
        } catch {
          /* gone */
        }
      }
      releaseLock(paths.lockFile);
      log.info(`shutting down (${signal})`);
      resolveExit(0);
    };
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      process.on(sig, () => void shutdown(sig));
    }
    process.on("SIGPIPE", () => {});
    process.on("unhandledRejection", (reason) => {
      log.error(`unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
    });
    process.on("uncaughtException", (err) => {
      log.error(`fatal: ${err.stack ?? err.message}`);
      undoAll();
      resolveExit(1);
    });
  });
}

/** A run that takes longer than this is given up on (a hung file system), so the next can start. */
const PERIODIC_STALL_MS = 30_000;

/**
 * Wraps a periodic async job so runs never overlap, and a run stuck on a hung file system (a
 * promise that never settles) does not stop every later run: after PERIODIC_STALL_MS it is
 * abandoned with a warning.
 */
function periodic<T>(name: string, run: () => Promise<T>, done: (result: T) => void, log: Logger): () => void {
  let startedAt: number | null = null;
  let generation = 0;
  return () => {
    if (startedAt !== null) {
      if (performance.now() - startedAt < PERIODIC_STALL_MS) return;
      log.warn(`${name} has not finished after ${PERIODIC_STALL_MS / 1000} s; starting a new one`);
    }
    const mine = ++generation;
    startedAt = performance.now();
    run().then(
      // Published even when late: the registry has already changed.
      (result) => done(result),
      (err: unknown) => log.error(`${name} failed: ${(err as Error).message}`),
    ).finally(() => {
      if (mine === generation) startedAt = null;
    });
  };
}

/**
 * Stops the listener and makes sure only our own socket disappears. Bun's listener.stop() unlinks
 * whatever is at the path, so a file someone else put there is kept aside and put back.
 */
function removeSocketIfOurs(path: string, bound: { dev: number; ino: number } | null, stop: () => void): void {
  let foreign: string | null = null;
  try {
    const st = lstatSync(path);
    if (bound === null || st.dev !== bound.dev || st.ino !== bound.ino) {
      foreign = `${path}.atmd-keep-${process.pid}`;
      linkSync(path, foreign);
    }
  } catch {
    foreign = null;
  }
  stop();
  try {
    // Bun's stop() normally removed it; only ever unlink the inode we bound.
    const st = lstatSync(path);
    if (foreign === null && bound !== null && st.dev === bound.dev && st.ino === bound.ino) unlinkSync(path);
  } catch {
    /* already gone */
  }
  if (foreign !== null) {
    try {
      renameSync(foreign, path);
    } catch {
      /* best effort */
    }
  }
}
