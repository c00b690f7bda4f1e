// Spawns the real daemon (`bun src/main.ts start --foreground`) in a fresh temp dir with its own
// socket, HOME and XDG_STATE_HOME, and waits until it answers a ping.
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LineClient, openClient } from "../../src/transport/client.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const MAIN = join(ROOT, "src/main.ts");
export const BUN = process.execPath;

export interface TestDaemon {
  dir: string;
  socket: string;
  stateDir: string;
  env: Record<string, string>;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string;
  /** A connected (handshaken) client. */
  client(clientId?: string): Promise<LineClient>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDir(prefix = "atmd-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Environment for a private daemon in `dir`. */
export function privateEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return {
    ...env,
    ATM_SOCKET: join(dir, "atm.sock"),
    XDG_STATE_HOME: join(dir, "state"),
    XDG_CONFIG_HOME: join(dir, "config"),
    HOME: join(dir, "home"),
    ATM_NO_DISCOVERY: "1",
    ATM_LOG_LEVEL: "debug",
    BUN_INSTALL_CACHE_DIR: join(dir, "bun-cache"),
    ...extra,
  };
}

const live = new Set<TestDaemon>();

export async function startDaemon(opts: { env?: Record<string, string>; args?: string[]; dir?: string; cmd?: string[] } = {}): Promise<TestDaemon> {
  const dir = opts.dir ?? tempDir();
  const env = privateEnv(dir, opts.env);
  const cmd = opts.cmd ?? [BUN, MAIN];
  const proc = Bun.spawn([...cmd, "start", "--foreground", ...(opts.args ?? [])], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: dir,
  });
  let err = "";
  const reader = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  void reader;
  const socket = env.ATM_SOCKET as string;
  const d: TestDaemon = {
    dir,
    socket,
    stateDir: join(env.XDG_STATE_HOME as string, "atm"),
    env,
    proc,
    stderr: () => err,
    client: (clientId?: string) => openClient(socket, clientId),
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      live.delete(d);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await withTimeout(proc.exited, 5000, "daemon exit");
      return code;
    },
  };
  live.add(d);
  await waitReady(socket, proc, () => err);
  return d;
}

/** Polls until a ping is answered (every 20 ms, at most 10 s). */
export async function waitReady(socket: string, proc: Subprocess, err: () => string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${err()}`);
    try {
      const c = await openClient(socket, "ready-probe", { timeoutMs: 500, replyTimeoutMs: 1000 });
      c.request("ping", { seq: 1 });
      const m = await c.next(1000);
      c.close();
      if (m?.type === "pong") return;
    } catch {
      /* not yet */
    }
    await Bun.sleep(20);
  }
  throw new Error(`daemon did not become ready: ${err()}`);
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every daemon still running (for afterEach/afterAll) and removes temp dirs. */
export async function stopAll(): Promise<void> {
  for (const d of [...live]) {
    try {
      await d.stop();
    } catch {
      d.proc.kill("SIGKILL");
    }
    rmSync(d.dir, { recursive: true, force: true });
  }
}

export const V = { major: 1, minor: 0 } as const;

/** A protocol message as one JSON line. */
export function msg(type: string, fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ protocol_version: V, type, ...fields })}\n`;
}

/** Reads messages until `pred` holds, failing after `ms`. */
export async function readUntil(
  c: LineClient,
  pred: (m: Record<string, unknown>) => boolean,
  ms = 5000,
): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  const deadline = performance.now() + ms;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`condition not met within ${ms} ms; saw ${JSON.stringify(seen).slice(0, 2000)}`);
    const m = await c.next(left);
    if (m === null) throw new Error(`connection closed; saw ${JSON.stringify(seen).slice(0, 2000)}`);
    seen.push(m);
    if (pred(m)) return seen;
  }
}

/** The reference programs beside the repo (`../shared/reference/bin`), absent in a user's clone. */
export const REFERENCE_BIN = resolve(ROOT, "../shared/reference/bin");
