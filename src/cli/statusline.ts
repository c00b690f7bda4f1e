// `atmd statusline` (DAEMON.md §11): forward the status JSON to the daemon (like the hook, as a
// `status_update`, at most 100 ms) and, at the same time, print the user's own status line — the
// stashed previous command run with the same stdin — or the built-in line. Always exits 0.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinLine } from "../integration/builtin-line.ts";
import { BUDGET_MS, debugLog, forward, forwardIo, newState, parseObject, readStdin, STDIN_LIMIT } from "../integration/forward.ts";
import { isObject, isOwnCommand } from "../integration/settings.ts";
import { concatBytes } from "../system/bytes.ts";
import { configDir } from "../system/paths.ts";

/** How long the chained command may run before it and its children are killed (§11.2). */
export const CHAIN_TIMEOUT_MS = 10_000;

/** The previous status-line command to chain, or null (§11.2 step 2). */
function previousCommand(): string | null {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(join(configDir(), "statusline.json"), "utf8"));
  } catch {
    return null;
  }
  if (!isObject(v)) return null;
  const prev = v.previous;
  if (!isObject(prev) || prev.type !== "command" || typeof prev.command !== "string") return null;
  if (prev.command.trim() === "") return null;
  // Never chain to ourselves (directly or through a loop of stashes).
  if (isOwnCommand(prev.command, "statusline", (w) => isSelfLazy(w))) return null;
  return prev.command;
}

let selfCheck: ((w: string) => boolean) | null = null;
function isSelfLazy(w: string): boolean {
  return selfCheck !== null ? selfCheck(w) : false;
}

interface ChainResult {
  out: Uint8Array;
  ok: boolean; // exited 0 within the time limit
}

/** Runs `command` with /bin/sh -c, same stdin bytes, cwd, env + ATM_STATUSLINE_CHILD=1. */
async function runChained(command: string, input: Uint8Array): Promise<ChainResult> {
  let proc: ReturnType<typeof Bun.spawn<"pipe", "pipe", "inherit">>;
  try {
    proc = Bun.spawn(["/bin/sh", "-c", command], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, ATM_STATUSLINE_CHILD: "1" },
      detached: true, // own process group, so a timeout kills its children too
    });
  } catch {
    return { out: new Uint8Array(0), ok: false };
  }
  // stdin: write it all, then close; a command that ignores stdin must not make us fail.
  void (async () => {
    try {
      proc.stdin.write(input);
      await proc.stdin.end();
    } catch {
      // EPIPE and the like
    }
  })();
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    try {
      for await (const c of proc.stdout) chunks.push(c);
    } catch {
      // ignore
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    Promise.all([proc.exited, reading]).then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), CHAIN_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
    await Promise.race([reading, Bun.sleep(200)]);
  }
  return { out: concatBytes(chunks), ok: !timedOut && proc.exitCode === 0 };
}

async function writeStdout(data: string | Uint8Array): Promise<void> {
  try {
    await Bun.write(Bun.stdout, data);
  } catch {
    // the reader went away
  }
}

export async function run(_args: string[]): Promise<number> {
  try {
    const io = await forwardIo();
    const input = await readStdin(io, STDIN_LIMIT);
    const bytes = input ?? new Uint8Array(0);
    const builtin = (): string => builtinLine(input === null ? null : parseObject(input));

    // Started by another `atmd statusline`: print the built-in line, do not forward again.
    const child = process.env.ATM_STATUSLINE_CHILD;
    if (child !== undefined && child !== "") {
      await writeStdout(builtin());
      await debugLog(newState("statusline"), "child");
      return 0;
    }

    const state = newState("statusline");
    const deadline = performance.now() + BUDGET_MS;
    selfCheck = (await import("../integration/self.ts")).isSelf;
    const command = previousCommand();
    // The user's command starts first: forwarding through libc is synchronous (bounded by the
    // deadline), and must not hold back the line the user sees.
    const chained = command === null ? null : runChained(command, bytes);
    const forwarding = forward(io, input, state, deadline)
      .then((r) => debugLog(state, r))
      .catch(() => {});

    if (chained === null) {
      await writeStdout(builtin());
    } else {
      const r = await chained;
      if (r.out.length > 0) await writeStdout(r.out);
      else if (!r.ok) await writeStdout(builtin());
      // printed nothing and exited 0: the user's line was empty before too
    }
    await Promise.race([forwarding, Bun.sleep(Math.max(0, deadline - performance.now()))]);
  } catch {
    // fail open
  }
  process.exit(0);
}
