// Discovery (SESSIONS.md §12): the Claude Code processes already running, each with its working
// directory and tmux pane. Linux reads /proc; macOS asks `ps` (and `lsof` for the cwd); elsewhere a
// scan finds nothing. The Claude-process rule is the hook's own (claude-process.ts), so discovery
// registers exactly the pid `atmd hook` later reports. The scan runs inside the daemon, so it
// yields to the event loop between small batches and stops when its signal aborts.
import { readdir } from "node:fs/promises";
import type { DiscoveredProcess } from "../registry/types.ts";
import { claudeByProc, isClaudeCommand, MAX_WALK, parsePs } from "./claude-process.ts";
import { nodeProcFs } from "./procfs-node.ts";
import { procCwdAsync, readProcStat, readProcStatAsync } from "./proc.ts";
import { listPanes, paneOf } from "./tmux.ts";

export interface ScanOptions {
  signal?: AbortSignal;
  /** Replaces `tmux list-panes …` (tests). */
  tmuxCommand?: string[];
  /** Whose process tree is excluded; the daemon itself by default. */
  selfPid?: number;
}

/** Processes examined synchronously before yielding to the event loop. */
const BATCH = 32;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export async function scanClaudeProcesses(opts: ScanOptions = {}): Promise<DiscoveredProcess[]> {
  try {
    if (process.platform === "linux") return await scanLinux(opts);
    if (process.platform === "darwin") return await scanDarwin(opts);
  } catch (e) {
    // An aborted scan (daemon shutting down) finds nothing; anything else is the caller's to log.
    if (opts.signal?.aborted) return [];
    throw e;
  }
  return [];
}

interface ProcEntry {
  ppid: number;
  state: string;
  /** The command name from /proc/<pid>/stat (Linux), for the Claude rule. */
  comm?: string;
  claude?: boolean;
}

/** Decides for every candidate whether it is the outermost Claude and not one of ours. */
function outermostCandidates(
  pids: number[],
  table: Map<number, ProcEntry>,
  lookup: (pid: number) => ProcEntry | undefined,
  isClaude: (pid: number, e: ProcEntry) => boolean,
  selfPid: number,
): number[] {
  const out: number[] = [];
  for (const pid of pids) {
    const e = table.get(pid);
    if (e === undefined || pid === selfPid || e.state === "Z" || e.state === "X") continue;
    if (!isClaude(pid, e)) continue;
    // Outermost only: no Claude process (and not the daemon) among 15 ancestors, stopping at pid 1.
    let keep = true;
    let p = e.ppid;
    for (let i = 0; i < MAX_WALK && p > 1; i++) {
      if (p === selfPid) {
        keep = false; // our own child (tmux, git, …) is never a candidate
        break;
      }
      const a = lookup(p);
      if (a === undefined) break;
      if (isClaude(p, a)) {
        keep = false;
        break;
      }
      p = a.ppid;
    }
    if (keep) out.push(pid);
  }
  return out;
}

async function scanLinux(opts: ScanOptions): Promise<DiscoveredProcess[]> {
  const selfPid = opts.selfPid ?? process.pid;
  const signal = opts.signal;
  const names = await readdir("/proc");
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);

  // Pass 1: parent and state of every process, a batch at a time.
  const table = new Map<number, ProcEntry>();
  for (let i = 0; i < pids.length; i += BATCH) {
    if (signal?.aborted) return [];
    for (const pid of pids.slice(i, i + BATCH)) {
      const st = readProcStat(pid);
      if (st !== undefined) table.set(pid, { ppid: st.ppid, state: st.state, comm: st.comm });
    }
    await yieldToLoop();
  }
  // A parent that started after the listing is read on demand.
  const lookup = (pid: number): ProcEntry | undefined => {
    let e = table.get(pid);
    if (e === undefined) {
      const st = readProcStat(pid);
      if (st === undefined) return undefined;
      e = { ppid: st.ppid, state: st.state, comm: st.comm };
      table.set(pid, e);
    }
    return e;
  };
  const isClaude = (pid: number, e: ProcEntry): boolean => {
    e.claude ??= claudeByProc(nodeProcFs, pid, e.comm ?? "");
    return e.claude;
  };

  // Pass 2: the Claude rule (a few small reads per process), batched as well.
  const claudes: number[] = [];
  for (let i = 0; i < pids.length; i += BATCH) {
    if (signal?.aborted) return [];
    claudes.push(...outermostCandidates(pids.slice(i, i + BATCH), table, lookup, isClaude, selfPid));
    await yieldToLoop();
  }
  if (claudes.length === 0) return [];

  // Working directories (unreadable: a zombie, another user's process → skipped) and one tmux call.
  const [cwds, panes] = await Promise.all([
    Promise.all(claudes.map((pid) => procCwdAsync(pid))),
    listPanes({ signal, command: opts.tmuxCommand }),
  ]);
  if (signal?.aborted) return [];
  const parentOf = (pid: number): number | undefined => lookup(pid)?.ppid;
  // Exited meanwhile (now a zombie or gone): not a session to create.
  const now = await Promise.all(claudes.map((pid) => readProcStatAsync(pid)));
  const found: DiscoveredProcess[] = [];
  for (const [i, pid] of claudes.entries()) {
    const cwd = cwds[i];
    const st = now[i];
    if (cwd === undefined || st === undefined || st.state === "Z" || st.state === "X") continue;
    found.push({ pid, cwd, tmuxPane: paneOf(pid, panes, parentOf) });
  }
  return found;
}

/** Runs a command with a deadline and the scan's signal; resolves to stdout, or null. */
async function runText(cmd: string[], signal: AbortSignal | undefined, timeoutMs: number): Promise<string | null> {
  if (signal?.aborted) return null;
  try {
    const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: timeoutMs, killSignal: "SIGKILL", signal });
    const text = await new Response(proc.stdout).text();
    const code = await proc.exited;
    return code === 0 || text !== "" ? text : null;
  } catch {
    return null;
  }
}

/** macOS: one `ps` for the process table, one `lsof` for the working directories. */
async function scanDarwin(opts: ScanOptions): Promise<DiscoveredProcess[]> {
  const selfPid = opts.selfPid ?? process.pid;
  const ps = await runText(["/bin/ps", "-A", "-o", "pid=,ppid=,stat=,comm="], opts.signal, 5000);
  if (ps === null) return [];
  const table = new Map<number, ProcEntry & { comm: string }>();
  for (const line of ps.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s(.*)$/.exec(line);
    if (!m) continue;
    table.set(Number(m[1]), { ppid: Number(m[2]), state: (m[3] as string).slice(0, 1), comm: (m[4] as string).trim() });
  }
  if (table.size === 0) {
    // Unexpected `ps` layout: fall back to the hook's parser (no state column).
    for (const [pid, e] of parsePs(ps)) table.set(pid, { ppid: e.ppid, state: "S", comm: e.comm });
  }
  const pids = [...table.keys()].sort((a, b) => a - b);
  const claudes = outermostCandidates(
    pids,
    table,
    (pid) => table.get(pid),
    (_pid, e) => isClaudeCommand((e as ProcEntry & { comm: string }).comm),
    selfPid,
  );
  if (claudes.length === 0) return [];
  const [lsof, panes] = await Promise.all([
    runText(["/usr/sbin/lsof", "-a", "-d", "cwd", "-Fpn", "-p", claudes.join(",")], opts.signal, 5000),
    listPanes({ signal: opts.signal, command: opts.tmuxCommand }),
  ]);
  if (opts.signal?.aborted) return [];
  const cwds = new Map<number, string>();
  let current = -1;
  for (const line of (lsof ?? "").split("\n")) {
    if (line.startsWith("p")) current = Number(line.slice(1));
    else if (line.startsWith("n") && current > 0) cwds.set(current, line.slice(1));
  }
  const found: DiscoveredProcess[] = [];
  for (const pid of claudes) {
    const cwd = cwds.get(pid);
    if (cwd === undefined) continue;
    found.push({ pid, cwd, tmuxPane: paneOf(pid, panes, (p) => table.get(p)?.ppid) });
  }
  return found;
}
