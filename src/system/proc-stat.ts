// Parsing /proc/<pid>/stat, with no I/O: shared by system/proc.ts and the hook's parent walk
// (system/claude-process.ts), which must not pull in node:fs/promises at start-up.

export interface ProcStat {
  pid: number;
  /** The command name between the parentheses (may itself contain spaces and parentheses). */
  comm: string;
  /** One letter: R, S, D, Z, X, … */
  state: string;
  ppid: number;
  /** Clock ticks since boot (field 22 of the file). */
  startTime: number;
}

/** Parses the text of /proc/<pid>/stat; fields are counted after the LAST `)`. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (state === undefined || state === "" || !Number.isInteger(ppid) || !Number.isInteger(startTime)) {
    return undefined;
  }
  return { pid, comm: text.slice(open + 1, close), state, ppid, startTime };
}
