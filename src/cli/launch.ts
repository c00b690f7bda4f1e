// `atmd start -d` (DAEMON.md §4.2): re-run this same executable as `start --foreground`, detached
// (Bun cannot fork), and return only once that very process answers `stats` on the socket — or
// explain why it did not, with the end of its log.
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, fstatSync } from "node:fs";
import { constants } from "node:os";
import { isCompiled } from "../integration/self.ts";
import { holderAlive, readLock } from "../system/lock.ts";
import { socketPath, statePaths } from "../system/paths.ts";
import { probeStats } from "../transport/client.ts";
import { alreadyRunning, errorCode } from "../system/error-text.ts";

type Env = Record<string, string | undefined>;

export const READY_TIMEOUT_MS = 5000;
export const POLL_MS = 20;
export const ROTATE_BYTES = 10 * 1024 * 1024;
export const TAIL_LINES = 20;

/**
 * The command that runs this program again. A compiled atmd is its own executable (its entry
 * point lives in Bun's embedded `/$bunfs/` filesystem); under `bun src/main.ts` it is bun plus the
 * absolute path of the entry script.
 */
export function selfCommand(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, Bun.main];
}

function runningMessage(pid: number): string {
  return `${alreadyRunning(` (PID ${pid})`)}\n`;
}

/** `atm.log` larger than 10 MiB becomes `atm.log.1`, replacing an older one (DAEMON.md §9). */
export function rotateLog(logFile: string, limit = ROTATE_BYTES): void {
  try {
    if (statSync(logFile).size > limit) renameSync(logFile, `${logFile}.1`);
  } catch {
    /* no log yet, or it cannot be rotated: appending still works */
  }
}

/** The last `n` lines of a file, each indented by two spaces (reads at most the last 64 KiB). */
export function logTail(path: string, n = TAIL_LINES): string {
  let text = "";
  try {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      text = buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines
    .slice(-n)
    .map((l) => `  ${l}\n`)
    .join("");
}

/** What answers on the socket: an atmd's pid, something else, or nothing (yet). */
type Probe = { kind: "atmd"; pid: number } | { kind: "other" } | { kind: "none" };

async function probe(socket: string, timeoutMs: number): Promise<Probe> {
  const r = await probeStats(socket, { connectTimeoutMs: timeoutMs, replyTimeoutMs: timeoutMs, clientId: "atmd-cli" });
  if (r.kind === "stats") return { kind: "atmd", pid: r.pid };
  return r.kind === "busy" ? { kind: "other" } : r; // at its cap: a daemon, not provably ours
}

function exitStatus(proc: { exitCode: number | null; signalCode: NodeJS.Signals | number | null }): number {
  if (proc.exitCode !== null) return proc.exitCode;
  const sig = proc.signalCode;
  if (typeof sig === "number") return 128 + sig;
  if (sig !== null) return 128 + (constants.signals[sig] ?? 0);
  return 1;
}

export async function launchDetached(env: Env = process.env): Promise<number> {
  const paths = statePaths(env);
  const socket = socketPath(env);
  const err = (text: string) => process.stderr.write(text);

  // 1. State directory; a live lock holder means a daemon is already up (nothing is started).
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    err(`atmd: cannot write ${paths.dir}: ${errorCode(e)}\n`);
    return 1;
  }
  const held = readLock(paths.lockFile)?.holder;
  if (held !== undefined && holderAlive(held)) {
    err(runningMessage(held.pid));
    return 1;
  }

  // 2. Rotation, then 3. the detached child, its output appended to the log.
  rotateLog(paths.logFile);
  let logFd: number;
  try {
    logFd = openSync(paths.logFile, "a", 0o600);
  } catch (e) {
    err(`atmd: cannot write ${paths.logFile}: ${errorCode(e)}\n`);
    return 1;
  }
  let child: ReturnType<typeof spawnChild>;
  try {
    const nullFd = openSync("/dev/null", "r");
    try {
      child = spawnChild(env, nullFd, logFd);
    } finally {
      closeSync(nullFd);
    }
  } catch (e) {
    err(`atmd: cannot start the daemon (${selfCommand().join(" ")}): ${errorCode(e)}\n`);
    return 1;
  } finally {
    closeSync(logFd);
  }
  // The launcher must be free to exit while its daemon keeps running.
  child.unref();
  const pid = child.pid;
  const tail = () => logTail(paths.logFile);
  const exited = () => child.exitCode !== null || child.signalCode !== null;

  // 4. Poll until our own child answers.
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited()) return await childExited(child, socket, paths.lockFile, paths.logFile, tail);
    const left = deadline - performance.now();
    if (left <= 0) break;
    const p = await probe(socket, Math.max(50, Math.min(1000, left)));
    if (p.kind === "atmd" && p.pid === pid) {
      process.stdout.write(`Daemon started (PID ${pid})\n`);
      return 0;
    }
    if (p.kind === "atmd") {
      // Another starter won; our child gives up on the lock or the socket probe. Wait for it so
      // nothing of ours is left behind, then report the winner.
      await waitExit(child, 5000);
      err(runningMessage(p.pid));
      return 1;
    }
    if (exited()) continue;
    await Bun.sleep(Math.max(0, Math.min(POLL_MS, deadline - performance.now())));
  }
  if (exited()) return await childExited(child, socket, paths.lockFile, paths.logFile, tail);
  err(`atmd: daemon (PID ${pid}) did not answer on ${socket} within 5 seconds. Last lines of ${paths.logFile}:\n${tail()}`);
  return 1;
}

function spawnChild(env: Env, stdinFd: number, logFd: number) {
  return Bun.spawn([...selfCommand(), "start", "--foreground"], {
    cwd: "/",
    env,
    stdio: [stdinFd, logFd, logFd],
    detached: true, // setsid(): a new session, no controlling terminal
  });
}

async function waitExit(child: { exited: Promise<number> }, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([child.exited, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Our child exited before answering. When that was because another daemon won a concurrent start
 * (it holds the lock, or answers on the socket), this is the plain "already running" case;
 * anything else is a start-up failure shown with the log tail.
 */
async function childExited(
  child: { exitCode: number | null; signalCode: NodeJS.Signals | number | null; pid: number },
  socket: string,
  lockFile: string,
  logFile: string,
  tail: () => string,
): Promise<number> {
  const status = exitStatus(child);
  if (status === 1) {
    // The winner may be between creating and filling in its lock, or not listening yet: look a
    // few times over half a second before calling this a failure.
    const until = performance.now() + 500;
    for (;;) {
      const holder = readLock(lockFile)?.holder;
      if (holder !== undefined && holder.pid !== child.pid && holderAlive(holder)) {
        process.stderr.write(runningMessage(holder.pid));
        return 1;
      }
      const p = await probe(socket, 500);
      if (p.kind === "atmd" && p.pid !== child.pid) {
        process.stderr.write(runningMessage(p.pid));
        return 1;
      }
      // No lock at all and nobody answering: nothing else won, this start simply failed.
      if (performance.now() >= until || !existsSync(lockFile)) break;
      await Bun.sleep(POLL_MS);
    }
  }
  process.stderr.write(`atmd: daemon exited during start-up (exit status ${status}). Last lines of ${logFile}:\n${tail()}`);
  return 1;
}
