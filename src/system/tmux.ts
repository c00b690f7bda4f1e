// tmux panes for discovery (SESSIONS.md §12.2): one `tmux list-panes -a` per scan, killed after
// 1 s, and a parent walk from a process to the pane whose shell it descends from. tmux being
// absent, having no server, failing or hanging all mean "no panes": discovery must never wait on
// or fail because of tmux.

export const LIST_PANES_ARGS = ["list-panes", "-a", "-F", "#{pane_id} #{pane_pid}"] as const;
export const TMUX_TIMEOUT_MS = 1000;
/** How many processes the pane walk examines, the process itself included. */
export const MAX_PANE_WALK = 20;

/** Parses `<pane_id> <pane_pid>` lines into pane shell pid → pane id (first pane wins). */
export function parsePanes(text: string): Map<number, string> {
  const panes = new Map<number, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(%\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid > 0 && !panes.has(pid)) panes.set(pid, m[1] as string);
  }
  return panes;
}

export interface ListPanesOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The command to run instead of `tmux list-panes …` (tests use a fake that hangs or fails). */
  command?: string[];
}

/**
 * Runs `tmux list-panes -a` once. Resolves to pane shell pid → pane id; an empty map when tmux is
 * missing, has no server, exits non-zero, times out or the signal aborts (the child is killed).
 */
export async function listPanes(opts: ListPanesOptions = {}): Promise<Map<number, string>> {
  if (opts.signal?.aborted) return new Map();
  const timeoutMs = opts.timeoutMs ?? TMUX_TIMEOUT_MS;
  let proc: ReturnType<typeof spawnTmux>;
  try {
    proc = spawnTmux(opts.command ?? ["tmux", ...LIST_PANES_ARGS]);
  } catch {
    return new Map(); // not installed / not executable
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stop: () => void = () => {};
  let killed = false;
  const kill = () => {
    killed = true;
    try {
      proc.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  };
  // One listener, removed in `finally`: the daemon reuses one signal for every scan.
  const onAbort = () => {
    kill();
    stop();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // Stop waiting at the deadline (or on abort) even if something keeps the pipe open.
    const cut = new Promise<null>((resolve) => {
      stop = () => resolve(null);
      timer = setTimeout(() => {
        kill();
        resolve(null);
      }, timeoutMs);
    });
    const output = (async () => {
      const text = await new Response(proc.stdout).text();
      const code = await proc.exited;
      return code === 0 ? text : null;
    })();
    output.catch(() => {}); // may settle after the race is decided
    const text = await Promise.race([output, cut]);
    if (text === null || killed) return new Map();
    return parsePanes(text);
  } catch {
    return new Map();
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    if (proc.exitCode === null && proc.signalCode === null) kill();
  }
}

function spawnTmux(cmd: string[]) {
  return Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
}

/**
 * The pane of `pid`: walk from the process itself up through its parents (at most 20 processes,
 * stopping at pid ≤ 1 or an unknown parent) to the first one that is a pane's shell.
 */
export function paneOf(
  pid: number,
  panes: ReadonlyMap<number, string>,
  parentOf: (pid: number) => number | undefined,
  maxSteps: number = MAX_PANE_WALK,
): string | null {
  if (panes.size === 0) return null;
  let p: number | undefined = pid;
  for (let i = 0; i < maxSteps && p !== undefined && p > 1; i++) {
    const pane = panes.get(p);
    if (pane !== undefined) return pane;
    p = parentOf(p);
  }
  return null;
}
