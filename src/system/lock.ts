// The single-instance lock (DAEMON.md §4.4): `<state>/atmd.lock`, created exclusively, holding
// `<pid> <start time>`. A lock whose holder is gone (or whose pid was reused) is stale and is
// cleared without ever removing a fresh lock another starter wrote in the meantime.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hasProc, readProcStat, verifyPid } from "./proc.ts";

export interface LockHolder {
  pid: number;
  startTime: number;
}

/** Start time of a process as recorded in the lock: /proc field 22, or 0 without /proc. */
export function processStartTime(pid: number): number | undefined {
  if (!hasProc()) return 0;
  return readProcStat(pid)?.startTime;
}

/** True when `pid` runs and is not a zombie (DAEMON.md §5.1: a zombie counts as gone). */
export function processRunning(pid: number): boolean {
  return verifyPid(pid).verified;
}

export function parseLock(text: string): LockHolder | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  return { pid: Number(m[1]), startTime: Number(m[2]) };
}

export function readLock(path: string): { text: string; holder: LockHolder | undefined } | undefined {
  try {
    const text = readFileSync(path, "utf8");
    return { text, holder: parseLock(text) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` still runs as the process that had `startTime` (one /proc read). Without /proc, or
 * with no recorded start time, liveness alone decides.
 */
export function sameProcess(pid: number, startTime: number | undefined): boolean {
  const v = verifyPid(pid);
  if (!v.verified) return false;
  return startTime === undefined || v.startTime === undefined || v.startTime === startTime;
}

/** Whether the holder recorded in a lock is that very process, still running. */
export function holderAlive(holder: LockHolder | undefined): boolean {
  return holder !== undefined && sameProcess(holder.pid, holder.startTime);
}

export type LockResult = { ok: true } | { ok: false; holder: LockHolder | undefined };

/**
 * Creates the lock with its content in one step: the content goes to a unique temp file that is
 * then hard-linked into place. link() fails with EEXIST like O_EXCL does, but the lock never
 * exists empty — an empty lock read by a concurrent starter would look stale and be removed.
 */
function tryCreate(path: string, content: string): boolean {
  const tmp = `${path}.new-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content, { mode: 0o600, flag: "wx" });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") return false;
    throw e;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

/**
 * Takes the lock for this process, clearing a stale one once. Throws on I/O errors. `reentrant`:
 * a lock already held by this very process counts as taken (the daemon restarting in place).
 */
export function acquireLock(path: string, pid = process.pid, opts: { reentrant?: boolean } = {}): LockResult {
  const content = `${pid} ${processStartTime(pid) ?? 0}`;
  if (tryCreate(path, content)) return { ok: true };
  const current = readLock(path);
  // Our own pid: a restart inside the same process (`bun --watch`) — the lock is already ours.
  if (opts.reentrant && current?.holder?.pid === pid && holderAlive(current.holder)) return { ok: true };
  if (current && holderAlive(current.holder)) return { ok: false, holder: current.holder };
  if (current) clearStale(path, current.text);
  if (tryCreate(path, content)) return { ok: true };
  return { ok: false, holder: readLock(path)?.holder };
}

/**
 * Moves a stale lock out of the way without ever deleting a fresh one: rename it to a unique name,
 * check it still holds the stale content, and put it back (without overwriting) if it does not.
 */
export function clearStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it already
  }
  let text: string | undefined;
  try {
    text = readFileSync(aside, "utf8");
  } catch {
    text = undefined;
  }
  if (text !== staleText) {
    try {
      linkSync(aside, path); // fails if a newer lock exists: then that one wins
    } catch {
      /* a newer lock is in place */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

/** Removes the lock if it is still ours. */
export function releaseLock(path: string, pid = process.pid): void {
  const current = readLock(path);
  if (current?.holder?.pid !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
