// Helpers for the lifecycle tests: run the real CLI (`bun src/main.ts …` or a compiled atmd) with a
// private environment, build the compiled binary once, and clean up every daemon a test started.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, privateEnv, ROOT, tempDir, withTimeout } from "../helpers/daemon.ts";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export type Cmd = string[];
export const BUN_CMD: Cmd = [BUN, MAIN];

/** Runs `<cmd> <args>` to completion (killed after `timeoutMs`). */
export async function cli(cmd: Cmd, args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  const t0 = performance.now();
  const p = Bun.spawn([...cmd, ...args], { env, cwd: env.HOME ?? "/", stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

export interface Env {
  dir: string;
  env: Record<string, string>;
  socket: string;
  state: string;
  pidFile: string;
  lockFile: string;
  logFile: string;
}

const envs: Env[] = [];

/** A fresh temp dir with a private socket, state dir and HOME (created, like a real home). */
export function freshEnv(extra: Record<string, string> = {}): Env {
  const dir = tempDir("atmd-life-");
  const env = privateEnv(dir, extra);
  mkdirSync(env.HOME as string, { recursive: true });
  const state = join(env.XDG_STATE_HOME as string, "atm");
  const e: Env = {
    dir,
    env,
    socket: env.ATM_SOCKET as string,
    state,
    pidFile: join(state, "atmd.pid"),
    lockFile: join(state, "atmd.lock"),
    logFile: join(state, "atm.log"),
  };
  envs.push(e);
  return e;
}

/** Pids of processes whose environment names this state dir (i.e. daemons of this test). */
export function daemonsOf(e: Env): number[] {
  const needle = `XDG_STATE_HOME=${e.env.XDG_STATE_HOME}\0`;
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (!cmdline.includes("start\0--foreground")) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (`${readFileSync(`/proc/${name}/environ`, "utf8")}\0`.includes(needle)) out.push(Number(name));
    } catch {
      /* gone or not readable */
    }
  }
  return out;
}

/** Kills every daemon the tests of this file started and removes their temp dirs. */
export async function cleanupEnvs(): Promise<void> {
  for (const e of envs.splice(0)) {
    const pids = process.platform === "linux" ? daemonsOf(e) : [];
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGCONT");
        process.kill(pid, "SIGTERM");
      } catch {
        /* gone */
      }
    }
    const deadline = performance.now() + 5000;
    while (pids.some(alive) && performance.now() < deadline) await Bun.sleep(20);
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    rmSync(e.dir, { recursive: true, force: true });
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** Polls `cond` every `everyMs` until it holds; throws after `ms`. Returns the elapsed time. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(everyMs);
  }
}

let compiled: Promise<Cmd | string> | undefined;

/**
 * The compiled atmd: `$ATMD_BIN` when set, else built once into a temp dir with the flags of
 * `bun run compile` (a private output, so parallel work on dist/ is not disturbed). Resolves to
 * the reason when the build fails, so the caller can skip with a message.
 */
export function compiledAtmd(): Promise<Cmd | string> {
  compiled ??= (async () => {
    const given = process.env.ATMD_BIN;
    if (given) return existsSync(given) ? [given] : `ATMD_BIN=${given} does not exist`;
    const out = join(tempDir("atmd-bin-"), "atmd");
    const p = Bun.spawn(
      [BUN, "build", join(ROOT, "src/main.ts"), "--compile", "--minify", "--sourcemap", "--bytecode", "--format=esm",
        "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--outfile", out],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await withTimeout(
      Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]),
      120_000,
      "bun build --compile",
    );
    if (code !== 0 || !existsSync(out)) return `bun build --compile failed (${code}): ${(stderr || stdout).slice(-2000)}`;
    return [out];
  })();
  return compiled;
}
