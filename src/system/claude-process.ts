// The Claude-process rule (SESSIONS.md §12.1) and the parent walk of `atmd hook` (DAEMON.md §10.3).
// Self-contained and synchronous on purpose: it runs on the hook's hot path, where a handful of
// small /proc reads cost microseconds. Discovery imports `isClaudeProcess` and `outermostClaude`
// so hook and discovery agree on which process is "the" Claude process.
import { readFileSync, readlinkSync } from "node:fs";
import { parseProcStat } from "./proc-stat.ts";

/** How many processes the walk examines at most (DAEMON.md §10.3, SESSIONS.md §12.1). */
export const MAX_WALK = 15;

/** *is-claude-path(p)*: `claude`, or ends with `/claude`, or contains `claude/versions/`. */
export function isClaudePath(p: string): boolean {
  return p === "claude" || p.endsWith("/claude") || p.includes("claude/versions/");
}

const DELETED = " (deleted)";

/** `/proc/<pid>/exe` target without a trailing ` (deleted)`, or null when unreadable. */
function exeTarget(pid: number): string | null {
  try {
    const t = readlinkSync(`/proc/${pid}/exe`);
    return t.endsWith(DELETED) ? t.slice(0, -DELETED.length) : t;
  } catch {
    return null;
  }
}

/** argv[0] from `/proc/<pid>/cmdline`, or null when unreadable or empty. */
function argv0(pid: number): string | null {
  try {
    const buf = readFileSync(`/proc/${pid}/cmdline`);
    if (buf.length === 0) return null;
    const nul = buf.indexOf(0);
    return buf.toString("utf8", 0, nul < 0 ? buf.length : nul);
  } catch {
    return null;
  }
}

/** One `/proc/<pid>/stat` read: the command name and the parent pid. Null when unreadable. */
export function readStat(pid: number): { comm: string; ppid: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  const st = parseProcStat(text);
  // comm is raw bytes (read as latin1 to keep them); names are compared as UTF-8 text.
  return st === undefined ? null : { comm: Buffer.from(st.comm, "latin1").toString("utf8"), ppid: st.ppid };
}

/**
 * The rule of SESSIONS.md §12.1 given the command name already read (saves a read on the walk):
 * comm is exactly `claude`, or the exe target or argv[0] satisfies is-claude-path.
 */
function claudeByProc(pid: number, comm: string): boolean {
  if (comm === "claude") return true;
  const exe = exeTarget(pid);
  if (exe !== null && isClaudePath(exe)) return true;
  const a0 = argv0(pid);
  return a0 !== null && isClaudePath(a0);
}

/** Linux: is `pid` a Claude process (SESSIONS.md §12.1)? False when it cannot be read. */
export function isClaudeProcess(pid: number): boolean {
  let comm: string;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, "utf8").replace(/\n$/, "");
  } catch {
    return false;
  }
  return claudeByProc(pid, comm);
}

/** macOS rule on a `ps` command value: last path component `claude`, or is-claude-path. */
export function isClaudeCommand(command: string): boolean {
  const slash = command.lastIndexOf("/");
  return command.slice(slash + 1) === "claude" || isClaudePath(command);
}

/**
 * Generic walk: from `start`, follow `parentOf`, examine at most `max` processes, stop before
 * pid 1 (and pid 0) or at a process that cannot be read; return the last (outermost) pid for
 * which `isClaude` held, or null.
 */
export function walkOutermost(
  start: number,
  lookup: (pid: number) => { claude: boolean; ppid: number } | null,
  max: number = MAX_WALK,
): number | null {
  let found: number | null = null;
  let pid = start;
  for (let i = 0; i < max && pid > 1; i++) {
    const p = lookup(pid);
    if (p === null) break;
    if (p.claude) found = pid;
    pid = p.ppid;
  }
  return found;
}

/** Linux walk over /proc (DAEMON.md §10.3). */
export function outermostClaudeLinux(start: number, max: number = MAX_WALK): number | null {
  return walkOutermost(
    start,
    (pid) => {
      const st = readStat(pid);
      if (st === null) return null;
      return { claude: claudeByProc(pid, st.comm), ppid: st.ppid };
    },
    max,
  );
}

/** Parses `ps -A -o pid=,ppid=,comm=` output into pid → {ppid, comm}. */
export function parsePs(text: string): Map<number, { ppid: number; comm: string }> {
  const table = new Map<number, { ppid: number; comm: string }>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line);
    if (!m) continue;
    table.set(Number(m[1]), { ppid: Number(m[2]), comm: (m[3] as string).trim() });
  }
  return table;
}

/** macOS walk: one `ps` call, then the same walk in memory. */
export function outermostClaudeDarwin(start: number, max: number = MAX_WALK): number | null {
  let out: string;
  try {
    const r = Bun.spawnSync(["/bin/ps", "-A", "-o", "pid=,ppid=,comm="], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
    });
    out = r.stdout.toString();
  } catch {
    return null;
  }
  const table = parsePs(out);
  return walkOutermost(
    start,
    (pid) => {
      const e = table.get(pid);
      return e === undefined ? null : { claude: isClaudeCommand(e.comm), ppid: e.ppid };
    },
    max,
  );
}

/**
 * The Claude pid for a process whose parent is `start` (DAEMON.md §10.3): the outermost Claude
 * process among at most 15 ancestors starting at `start`. Null when there is none.
 */
export function outermostClaude(start: number = process.ppid): number | null {
  if (process.platform === "linux") return outermostClaudeLinux(start);
  if (process.platform === "darwin") return outermostClaudeDarwin(start);
  return null;
}
