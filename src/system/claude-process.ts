// The Claude-process rule (SESSIONS.md §12.1) and the parent walk of `atmd hook` (DAEMON.md §10.3).
// Synchronous, and free of I/O imports: the /proc reads go through a `ProcFs` the caller passes —
// node:fs in the daemon's discovery (system/procfs-node.ts), libc through FFI on the hook's hot
// path (system/libc.ts) — so hook and discovery agree on which process is "the" Claude process.
import { parseProcStatBytes } from "./proc-stat.ts";

/** The two reads the rule needs. Both return null when the file cannot be read. */
export interface ProcFs {
  readFile(path: string): Uint8Array | null;
  readlink(path: string): string | null;
}

/** How many processes the walk examines at most (DAEMON.md §10.3, SESSIONS.md §12.1). */
export const MAX_WALK = 15;

/** *is-claude-path(p)*: `claude`, or ends with `/claude`, or contains `claude/versions/`. */
export function isClaudePath(p: string): boolean {
  return p === "claude" || p.endsWith("/claude") || p.includes("claude/versions/");
}

const DELETED = " (deleted)";

const utf8 = new TextDecoder();

/** `/proc/<pid>/exe` target without a trailing ` (deleted)`, or null when unreadable. */
function exeTarget(fs: ProcFs, pid: number): string | null {
  const t = fs.readlink(`/proc/${pid}/exe`);
  if (t === null) return null;
  return t.endsWith(DELETED) ? t.slice(0, -DELETED.length) : t;
}

/** argv[0] from `/proc/<pid>/cmdline`, or null when unreadable or empty. */
function argv0(fs: ProcFs, pid: number): string | null {
  const buf = fs.readFile(`/proc/${pid}/cmdline`);
  if (buf === null || buf.length === 0) return null;
  const nul = buf.indexOf(0);
  return utf8.decode(nul < 0 ? buf : buf.subarray(0, nul));
}

/** One `/proc/<pid>/stat` read: the command name and the parent pid. Null when unreadable. */
export function readStat(fs: ProcFs, pid: number): { comm: string; ppid: number } | null {
  const bytes = fs.readFile(`/proc/${pid}/stat`);
  if (bytes === null) return null;
  const st = parseProcStatBytes(bytes);
  return st === undefined ? null : { comm: st.comm, ppid: st.ppid };
}

/**
 * The rule of SESSIONS.md §12.1 given the command name already read (from /proc/<pid>/stat, which
 * the walk and discovery read anyway): comm is exactly `claude`, or the exe target or argv[0]
 * satisfies is-claude-path.
 */
export function claudeByProc(fs: ProcFs, pid: number, comm: string): boolean {
  if (comm === "claude") return true;
  const exe = exeTarget(fs, pid);
  if (exe !== null && isClaudePath(exe)) return true;
  const a0 = argv0(fs, pid);
  return a0 !== null && isClaudePath(a0);
}

/** Linux: is `pid` a Claude process (SESSIONS.md §12.1)? False when it cannot be read. */
export function isClaudeProcess(fs: ProcFs, pid: number): boolean {
  const raw = fs.readFile(`/proc/${pid}/comm`);
  if (raw === null) return false;
  return claudeByProc(fs, pid, utf8.decode(raw).replace(/\n$/, ""));
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
export function outermostClaudeLinux(fs: ProcFs, start: number, max: number = MAX_WALK): number | null {
  return walkOutermost(
    start,
    (pid) => {
      const st = readStat(fs, pid);
      if (st === null) return null;
      return { claude: claudeByProc(fs, pid, st.comm), ppid: st.ppid };
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
 * process among at most 15 ancestors starting at `start`. Null when there is none. `fs` serves the
 * Linux walk; macOS uses one `ps` call.
 */
export function outermostClaude(fs: ProcFs, start: number = process.ppid): number | null {
  if (process.platform === "linux") return outermostClaudeLinux(fs, start);
  if (process.platform === "darwin") return outermostClaudeDarwin(start);
  return null;
}
