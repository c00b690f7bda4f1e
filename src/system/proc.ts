// Process facts from the operating system: state, parent and start time from /proc/<pid>/stat,
// cwd / comm / exe / argv[0], and kill(pid, 0) where there is no /proc (SESSIONS.md §13.1).
// Every function returns `undefined` (or false) instead of throwing: processes vanish anytime.
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import { parseProcStat, type ProcStat } from "./proc-stat.ts";

export { parseProcStat, type ProcStat };


/** The largest pid kill(2) can take without being read as a negative (process-group) target. */
const MAX_KILL_PID = 2_147_483_647;

let procCache: boolean | undefined;
/** Whether this system has a Linux-style /proc. */
export function hasProc(): boolean {
  procCache ??= existsSync("/proc/self/stat");
  return procCache;
}


function validPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0;
}

export function readProcStat(pid: number): ProcStat | undefined {
  if (!validPid(pid)) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return undefined;
  }
}

export async function readProcStatAsync(pid: number): Promise<ProcStat | undefined> {
  if (!validPid(pid)) return undefined;
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return undefined;
  }
}

/** Parent pid from /proc, or undefined when unreadable (not on Linux, process gone). */
export function parentPid(pid: number): number | undefined {
  return readProcStat(pid)?.ppid;
}

export async function parentPidAsync(pid: number): Promise<number | undefined> {
  return (await readProcStatAsync(pid))?.ppid;
}

/** Start time in clock ticks since boot, or undefined. */
export function startTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

/**
 * Up to `max` ancestors of `pid` (parent first), stopping after a pid ≤ 1 or at an unreadable
 * process (`parentOf` undefined). The registry's subagent correlation passes its System's lookup.
 */
export function ancestors(
  pid: number,
  max: number,
  parentOf: (pid: number) => number | undefined = parentPid,
): number[] {
  const out: number[] = [];
  let p = pid;
  while (out.length < max) {
    const pp = parentOf(p);
    if (pp === undefined) break;
    out.push(pp);
    if (pp <= 1) break;
    p = pp;
  }
  return out;
}

/** kill(pid, 0): true when the process exists (EPERM counts: it exists, just not ours). */
export function pidExists(pid: number): boolean {
  if (!validPid(pid) || pid > MAX_KILL_PID) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
}

export function procCwd(pid: number): string | undefined {
  if (!validPid(pid)) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export async function procCwdAsync(pid: number): Promise<string | undefined> {
  if (!validPid(pid)) return undefined;
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/comm without its trailing newline. */
export function procComm(pid: number): string | undefined {
  if (!validPid(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").replace(/\n$/, "");
  } catch {
    return undefined;
  }
}

/** Target of /proc/<pid>/exe, with the kernel's ` (deleted)` suffix removed. */
export function procExe(pid: number): string | undefined {
  if (!validPid(pid)) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
  } catch {
    return undefined;
  }
}

/** argv[0] from /proc/<pid>/cmdline (NUL-separated). */
export function procArgv0(pid: number): string | undefined {
  if (!validPid(pid)) return undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return undefined; // kernel threads and zombies have no command line
    const nul = raw.indexOf("\0");
    return nul === -1 ? raw : raw.slice(0, nul);
  } catch {
    return undefined;
  }
}

export interface PidCheck {
  verified: boolean;
  /** Present when /proc gave one; absent on systems checked with kill(pid, 0). */
  startTime?: number;
}

function isDeadState(state: string): boolean {
  return state === "Z" || state === "X";
}

/** Verification at creation and on move (SESSIONS.md §13.1). */
export function verifyPid(pid: number): PidCheck {
  if (hasProc()) {
    const st = readProcStat(pid);
    if (st === undefined || isDeadState(st.state)) return { verified: false };
    return { verified: true, startTime: st.startTime };
  }
  return { verified: pidExists(pid) };
}

/**
 * Liveness of a verified session's pid on the cleanup tick (§13.2): gone, a zombie, or a
 * different start time (pid reused) all mean dead.
 */
export async function pidAlive(pid: number, expectedStart: number | undefined): Promise<boolean> {
  if (hasProc()) {
    const st = await readProcStatAsync(pid);
    if (st === undefined || isDeadState(st.state)) return false;
    return expectedStart === undefined || st.startTime === expectedStart;
  }
  return pidExists(pid);
}
