// Parsing /proc/<pid>/stat, with no I/O: shared by system/proc.ts and the hook's parent walk
// (system/claude-process.ts), which must not pull in node:fs at start-up. No regular expressions
// and no Buffer here: on the hook's path their first use costs ~0.1 ms each.

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

/** The fields after the command name's closing `)`; the kernel separates them by one space. */
function fields(pid: number, comm: string, rest: string): ProcStat | undefined {
  const f = rest.trim().split(" ");
  const state = f[0];
  const ppid = Number(f[1]);
  const startTime = Number(f[19]);
  if (state === undefined || state === "" || !Number.isInteger(ppid) || !Number.isInteger(startTime)) {
    return undefined;
  }
  return { pid, comm, state, ppid, startTime };
}

/** Parses the text of /proc/<pid>/stat; fields are counted after the LAST `)`. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  return fields(Number(text.slice(0, open).trim()), text.slice(open + 1, close), text.slice(close + 1));
}

const utf8 = new TextDecoder();

/** The same from the file's bytes, the command name decoded as UTF-8 (it is raw bytes). */
export function parseProcStatBytes(bytes: Uint8Array): ProcStat | undefined {
  const open = bytes.indexOf(0x28); // (
  const close = bytes.lastIndexOf(0x29); // )
  if (open < 0 || close < open) return undefined;
  return fields(
    Number(utf8.decode(bytes.subarray(0, open)).trim()),
    utf8.decode(bytes.subarray(open + 1, close)),
    utf8.decode(bytes.subarray(close + 1)),
  );
}
