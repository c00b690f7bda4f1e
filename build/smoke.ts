// Smoke test of a compiled atmd: `--version`, then start it on a private socket with private
// state and home directories, connect + ping over the socket, SIGTERM, and check it exited 0 and
// removed its socket. The binary and the start arguments are parameters so it can be checked
// against the reference daemon (whose `start` runs in the foreground and has no --foreground).

import { existsSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmokeOptions {
  /** Arguments that start the daemon in the foreground. Default `["start", "--foreground"]`. */
  readonly startArgs?: readonly string[];
  /** When set, `--version` must print exactly `atmd <version>`. */
  readonly expectVersion?: string;
  /** How long the daemon may take to create its socket. Default 10 s (slow 2-core machines). */
  readonly startTimeoutMs?: number;
  /** How long each other step (version, reply, exit) may take. Default 5 s. */
  readonly stepTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface SmokeResult {
  readonly versionLine: string;
  /** Spawn to socket present. */
  readonly startMs: number;
  /** The lines the daemon answered with. */
  readonly replies: readonly string[];
}

export class SmokeError extends Error {
  override readonly name = "SmokeError";
  /** Set when the connection itself could not be made (worth retrying while starting up). */
  readonly connectFailed: boolean;
  constructor(message: string, connectFailed = false) {
    super(message);
    this.connectFailed = connectFailed;
  }
}

const CONNECT = '{"protocol_version":{"major":1,"minor":0},"type":"connect"}';
const PING = '{"protocol_version":{"major":1,"minor":0},"type":"ping","seq":1}';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SmokeError(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The environment for the binary: ours minus anything that would steer the daemon elsewhere. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("ATM_") || k.startsWith("XDG_") || k === "BUN_OPTIONS") continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Connects, sends connect + ping in one write and resolves with the first two reply lines. */
function pingOverSocket(path: string, timeoutMs: number): Promise<string[]> {
  const work = new Promise<string[]>((resolve, reject) => {
    let buffer = "";
    const lines: string[] = [];
    let done = false;
    const finish = (err: Error | undefined, socket?: { end(): void }): void => {
      if (done) return;
      done = true;
      socket?.end();
      if (err) reject(err);
      else resolve(lines);
    };
    const decoder = new TextDecoder();
    Bun.connect({
      unix: path,
      socket: {
        open(socket) {
          const payload = `${CONNECT}\n${PING}\n`;
          const written = socket.write(payload);
          if (written !== Buffer.byteLength(payload)) {
            finish(new SmokeError(`short write to the socket (${written} bytes)`), socket);
          }
        },
        data(socket, chunk) {
          buffer += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            lines.push(buffer.slice(0, nl).replace(/\r$/, ""));
            buffer = buffer.slice(nl + 1);
          }
          if (lines.length >= 2) finish(undefined, socket);
        },
        end(socket) {
          finish(new SmokeError(`daemon closed the connection after ${JSON.stringify(lines)}`), socket);
        },
        close() {
          finish(new SmokeError(`connection closed after ${JSON.stringify(lines)}`));
        },
        error(_socket, err) {
          finish(new SmokeError(`socket error: ${err.message}`));
        },
      },
    }).catch((err: unknown) => finish(new SmokeError(`connect failed: ${String(err)}`, true)));
  });
  return withTimeout(work, timeoutMs, "connect + ping reply");
}

/** Runs the smoke test; throws SmokeError (with the daemon's output) when anything misbehaves. */
export async function smokeTest(binary: string, options: SmokeOptions = {}): Promise<SmokeResult> {
  const startArgs = options.startArgs ?? ["start", "--foreground"];
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const stepTimeoutMs = options.stepTimeoutMs ?? 5_000;
  const log = options.log ?? (() => {});
  if (!existsSync(binary)) throw new SmokeError(`${binary}: no such file`);

  const dir = mkdtempSync(join(tmpdir(), "atmd-smoke-"));
  const socketPath = join(dir, "atm.sock");
  const env = childEnv({
    ATM_SOCKET: socketPath,
    XDG_STATE_HOME: join(dir, "state"),
    HOME: join(dir, "home"),
  });
  mkdirSync(join(dir, "state"));
  mkdirSync(join(dir, "home"));
  let daemon: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let daemonOutput: Promise<string> | undefined;
  const withOutput = async (message: string): Promise<SmokeError> => {
    // The test has failed: stop the daemon so its output ends, then quote the tail of it.
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    const out = daemonOutput ? await withTimeout(daemonOutput, 1000, "daemon output").catch(() => "") : "";
    const tail = out.trim().split("\n").slice(-20).join("\n");
    return new SmokeError(tail ? `${message}\n--- daemon output (last lines) ---\n${tail}` : message);
  };

  try {
    // 1. --version
    const version = Bun.spawn([binary, "--version"], { cwd: dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [vOut, vErr, vCode] = await withTimeout(
      Promise.all([new Response(version.stdout).text(), new Response(version.stderr).text(), version.exited]),
      stepTimeoutMs,
      "--version",
    ).catch((err: unknown) => {
      version.kill("SIGKILL");
      throw err;
    });
    if (vCode !== 0) throw new SmokeError(`--version exited ${vCode}: ${vErr.trim()}`);
    const versionLine = vOut.replace(/\n$/, "");
    if (!/^atmd \d+\.\d+\.\d+\S*$/.test(versionLine)) {
      throw new SmokeError(`--version printed ${JSON.stringify(vOut)}, expected "atmd <version>"`);
    }
    if (options.expectVersion !== undefined && versionLine !== `atmd ${options.expectVersion}`) {
      throw new SmokeError(`--version printed '${versionLine}', expected 'atmd ${options.expectVersion}'`);
    }
    log(`--version: ${versionLine}`);

    // 2. start in the foreground, wait for the socket
    const t0 = performance.now();
    daemon = Bun.spawn([binary, ...startArgs], { cwd: dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const d = daemon;
    daemonOutput = Promise.all([new Response(d.stdout).text(), new Response(d.stderr).text()]).then(
      ([o, e]) => o + e,
    );
    while (!existsSync(socketPath)) {
      if (d.exitCode !== null || d.signalCode !== null) {
        throw await withOutput(`daemon exited (${d.exitCode ?? d.signalCode}) before creating ${socketPath}`);
      }
      if (performance.now() - t0 > startTimeoutMs) {
        throw await withOutput(`daemon did not create its socket within ${startTimeoutMs} ms`);
      }
      await sleep(20);
    }
    const startMs = performance.now() - t0;
    log(`socket up after ${startMs.toFixed(0)} ms`);

    // 3. connect + ping. The socket file appears at bind(), a moment before listen(): retry a
    // refused connection until the start deadline.
    let replies: string[] | undefined;
    while (replies === undefined) {
      try {
        replies = await pingOverSocket(socketPath, stepTimeoutMs);
      } catch (err) {
        const retry = err instanceof SmokeError && err.connectFailed && performance.now() - t0 < startTimeoutMs;
        if (!retry) throw await withOutput(err instanceof Error ? err.message : String(err));
        await sleep(20);
      }
    }
    const first = parseJson(replies[0] ?? "");
    const second = parseJson(replies[1] ?? "");
    if (first?.type !== "connected") {
      throw await withOutput(`expected a 'connected' reply first, got ${JSON.stringify(replies[0])}`);
    }
    if (second?.type !== "pong" || second.seq !== 1) {
      throw await withOutput(`expected {"type":"pong","seq":1}, got ${JSON.stringify(replies[1])}`);
    }
    log(`ping: ${replies[1]}`);

    // 4. SIGTERM → exit 0 and the socket removed
    d.kill("SIGTERM");
    const code = await withTimeout(d.exited, stepTimeoutMs, "exit after SIGTERM").catch(async (err: unknown) => {
      d.kill("SIGKILL");
      throw await withOutput(err instanceof Error ? err.message : String(err));
    });
    if (code !== 0 || d.signalCode !== null) {
      throw await withOutput(`daemon exited with ${d.signalCode ?? code} after SIGTERM, expected 0`);
    }
    if (existsSync(socketPath)) throw await withOutput(`daemon left its socket ${socketPath} behind`);
    log("SIGTERM: exit 0, socket removed");
    return { versionLine, startMs, replies };
  } finally {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill("SIGKILL");
      await daemon.exited.catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
