// `atmd status` (DAEMON.md §5.3) and the daemon lookup it shares with `atmd stop` (§5.1): ask
// the socket first (the truth about who answers), then the lock / PID file with a start-time
// check so a reused pid is never mistaken for atmd, and tidy up files a dead daemon left behind.
import { readFileSync, readlinkSync, unlinkSync } from "node:fs";
import { durationDisplay } from "../registry/format.ts";
import { clearStale, holderAlive, processRunning, processStartTime, readLock } from "../system/lock.ts";
import { socketPath, statePaths } from "../system/paths.ts";
import { hasProc, procExe } from "../system/proc.ts";
import { probeStats, type StatsProbe } from "../transport/client.ts";
import { selfCommand } from "./launch.ts";
import { parseArgs } from "./usage.ts";

type Env = Record<string, string | undefined>;

export const CONNECT_TIMEOUT_MS = 1000;
export const REPLY_TIMEOUT_MS = 2000;

export type Found =
  /** An atmd answered `stats` on the socket. */
  | { kind: "answering"; pid: number; stats: Record<string, unknown> }
  /** An atmd process (per the lock or PID file) exists but the socket did not answer. */
  | { kind: "silent"; pid: number; startTime: number | undefined; foreign: boolean }
  /** Something answers on the socket, but not as atmd; no atmd process known. */
  | { kind: "foreign" }
  | { kind: "none" };

type SocketAnswer = StatsProbe;

function askSocket(socket: string): Promise<SocketAnswer> {
  return probeStats(socket, { connectTimeoutMs: CONNECT_TIMEOUT_MS, replyTimeoutMs: REPLY_TIMEOUT_MS, clientId: "atmd-cli" });
}

function readPidFile(path: string): number | undefined {
  try {
    const text = readFileSync(path, "utf8");
    return /^\s*\d+\s*$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs this atmd program (used when there is no start time to compare): the same
 * executable, and under `bun src/main.ts` also the same entry script on its command line.
 */
export function runsThisAtmd(pid: number): boolean {
  const self = selfCommand();
  if (hasProc()) {
    const exe = procExe(pid);
    let ours: string | undefined;
    try {
      ours = readlinkSync("/proc/self/exe");
    } catch {
      ours = undefined;
    }
    if (exe === undefined || ours === undefined || exe !== ours) return false;
    if (self.length === 1) return true;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return argv.includes(self[1] as string);
    } catch {
      return false;
    }
  }
  try {
    const r = Bun.spawnSync(["/bin/ps", "-o", "command=", "-p", String(pid)], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    const cmd = r.stdout.toString().trim();
    return self.every((part) => cmd.includes(part));
  } catch {
    return false;
  }
}

/** DAEMON.md §5.1. Removes leftover lock and PID files when no daemon is found. */
export async function findDaemon(env: Env = process.env): Promise<Found> {
  const socket = socketPath(env);
  const paths = statePaths(env);
  const answer = await askSocket(socket);
  if (answer.kind === "stats") return { kind: "answering", pid: answer.pid, stats: answer.stats };

  const lock = readLock(paths.lockFile);
  const holder = lock?.holder;
  if (holder !== undefined && holderAlive(holder)) {
    // Without /proc the recorded start time is 0 and proves nothing: check the executable too.
    if (hasProc() || runsThisAtmd(holder.pid)) {
      return { kind: "silent", pid: holder.pid, startTime: processStartTime(holder.pid), foreign: answer.kind === "other" };
    }
  }
  if (holder === undefined) {
    // No usable lock: the PID file's pid counts only if it provably runs this atmd.
    const pid = readPidFile(paths.pidFile);
    if (pid !== undefined && processRunning(pid) && runsThisAtmd(pid)) {
      return { kind: "silent", pid, startTime: processStartTime(pid), foreign: answer.kind === "other" };
    }
  }

  removeLeftovers(paths.lockFile, paths.pidFile, lock?.text);
  // An atmd at its connection cap with no lock here (another state directory) is still a daemon
  // on this socket; report it as listening rather than as absent.
  return answer.kind === "other" || answer.kind === "busy" ? { kind: "foreign" } : { kind: "none" };
}

/**
 * Removes a lock whose holder is gone and a PID file whose process is gone. The lock is moved
 * aside and checked before deletion, so a fresh lock a starting daemon just wrote is never lost.
 */
function removeLeftovers(lockFile: string, pidFile: string, lockText: string | undefined): void {
  const holder = lockText === undefined ? undefined : readLock(lockFile)?.holder;
  if (lockText !== undefined && holder !== undefined && !holderAlive(holder)) clearStale(lockFile, lockText);
  const pid = readPidFile(pidFile);
  if (pid !== undefined && !processRunning(pid)) {
    try {
      // Re-read right before unlinking: a daemon that just started rewrites it with a live pid.
      if (readPidFile(pidFile) === pid) unlinkSync(pidFile);
    } catch {
      /* already gone */
    }
  }
}

export async function run(args: string[], env: Env = process.env): Promise<number> {
  const parsed = parseArgs("status", args, {});
  if (typeof parsed === "number") return parsed;
  const socket = socketPath(env);
  const found = await findDaemon(env);
  const out = (s: string) => process.stdout.write(s);
  switch (found.kind) {
    case "answering": {
      const s = found.stats;
      const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
      out(`Daemon is running (PID ${found.pid})\n`);
      out(`Socket: ${socket}\n`);
      out(`Sessions: ${num(s.sessions)}, connections: ${num(s.connections)}, uptime: ${durationDisplay(num(s.uptime_seconds) * 1000)}\n`);
      return 0;
    }
    case "silent":
      out(`Daemon is running (PID ${found.pid})\nSocket: ${socket} (not answering)\n`);
      return 1;
    case "foreign":
      out(`A daemon is listening on ${socket}, but it is not atmd.\n`);
      return 1;
    case "none":
      out("Daemon is not running.\n");
      return 1;
  }
}
