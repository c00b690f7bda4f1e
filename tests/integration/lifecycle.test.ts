// Black-box tests of `atmd start -d`, `status` and `stop` (DAEMON.md §4, §5) through the real CLI,
// both `bun src/main.ts` and the compiled binary: exact messages and exit codes, the files left
// (and not left) behind, detaching, and recovery from what a killed daemon leaves.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { startDaemon, stopAll } from "../helpers/daemon.ts";
import { alive, BUN_CMD, type Cmd, cleanupEnvs, cli, compiledAtmd, daemonsOf, freshEnv, until } from "./lifecycle-helpers.ts";

afterEach(async () => {
  await stopAll();
  await cleanupEnvs();
});

const alreadyRunning = (pid: number) => `Daemon is already running (PID ${pid})\nUse 'atmd stop' to stop it first.\n`;

function procStatFields(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, "latin1");
  return s.slice(s.lastIndexOf(")") + 2).split(" ");
}

let compiledCmd: Cmd | null = null;
let compiledWhy = "";
beforeAll(async () => {
  const r = await compiledAtmd();
  if (typeof r === "string") {
    compiledWhy = r;
    console.warn(`skipping the compiled-binary round trip: ${r}`);
  } else {
    compiledCmd = r;
  }
}, 180_000);

async function roundTrip(cmd: Cmd): Promise<void> {
  const e = freshEnv();
  const started = await cli(cmd, ["start", "-d"], e.env);
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
  const m = /^Daemon started \(PID (\d+)\)\n$/.exec(started.stdout);
  expect(m).not.toBeNull();
  const pid = Number(m?.[1]);

  // The daemon: detached in its own session, cwd /, stdin /dev/null, output to the log.
  expect(alive(pid)).toBe(true);
  const f = procStatFields(pid);
  expect(Number(f[3])).toBe(pid); // session id = pid (setsid)
  expect(readlinkSync(`/proc/${pid}/cwd`)).toBe("/");
  expect(readlinkSync(`/proc/${pid}/fd/0`)).toBe("/dev/null");
  expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(e.logFile);
  expect(readlinkSync(`/proc/${pid}/fd/2`)).toBe(e.logFile);
  // Files: PID file without newline, lock `<pid> <start>`, socket and log 0600, state dir 0700.
  expect(readFileSync(e.pidFile, "utf8")).toBe(String(pid));
  expect(readFileSync(e.lockFile, "utf8")).toBe(`${pid} ${f[19]}`);
  expect(statSync(e.socket).mode & 0o777).toBe(0o600);
  expect(statSync(e.logFile).mode & 0o777).toBe(0o600);
  expect(statSync(e.state).mode & 0o777).toBe(0o700);
  expect(readFileSync(e.logFile, "utf8")).toContain(`listening on ${e.socket} (pid ${pid})`);

  const status = await cli(cmd, ["status"], e.env);
  expect(status.stderr).toBe("");
  expect(status.stdout).toMatch(
    new RegExp(`^Daemon is running \\(PID ${pid}\\)\\nSocket: ${e.socket}\\nSessions: 0, connections: 1, uptime: \\d+s\\n$`),
  );
  expect(status.code).toBe(0);

  const again = await cli(cmd, ["start", "-d"], e.env);
  expect(again.stdout).toBe("");
  expect(again.stderr).toBe(alreadyRunning(pid));
  expect(again.code).toBe(1);
  // A foreground start while it runs says the same.
  const fg = await cli(cmd, ["start"], e.env);
  expect(fg.stderr).toBe(alreadyRunning(pid));
  expect(fg.code).toBe(1);

  const stop = await cli(cmd, ["stop"], e.env);
  expect(stop.stderr).toBe("");
  expect(stop.stdout).toBe(`Stopping daemon (PID ${pid})...\nDaemon stopped.\n`);
  expect(stop.code).toBe(0);
  expect(alive(pid)).toBe(false);
  for (const file of [e.socket, e.pidFile, e.lockFile]) expect(existsSync(file)).toBe(false);
  expect(readFileSync(e.logFile, "utf8")).toContain("shutting down (SIGTERM)");

  const status2 = await cli(cmd, ["status"], e.env);
  expect([status2.stdout, status2.stderr, status2.code]).toEqual(["Daemon is not running.\n", "", 1]);
  const stop2 = await cli(cmd, ["stop"], e.env);
  expect([stop2.stdout, stop2.stderr, stop2.code]).toEqual(["Daemon is not running.\n", "", 0]);

  // The log is appended to, never truncated: a second start keeps the first run's lines.
  const before = readFileSync(e.logFile, "utf8");
  const third = await cli(cmd, ["-d"], e.env); // no subcommand + -d = start -d
  expect(third.code).toBe(0);
  expect(readFileSync(e.logFile, "utf8").startsWith(before)).toBe(true);
  expect((await cli(cmd, ["stop"], e.env)).code).toBe(0);
}

describe("start -d / status / stop", () => {
  test("round trip via bun src/main.ts", async () => {
    await roundTrip(BUN_CMD);
  }, 60_000);

  test("round trip via the compiled binary", async () => {
    if (compiledCmd === null) {
      console.warn(`skipped: ${compiledWhy}`);
      return;
    }
    await roundTrip(compiledCmd);
  }, 60_000);

  test("the compiled daemon does not load a .env from the directory it was started in", async () => {
    if (compiledCmd === null) {
      console.warn(`skipped: ${compiledWhy}`);
      return;
    }
    const e = freshEnv();
    // cli() runs in $HOME: a .env there must not change the daemon's socket.
    writeFileSync(`${e.env.HOME}/.env`, `ATM_SOCKET=${e.dir}/dotenv.sock\n`);
    const r = await cli(compiledCmd, ["start", "-d"], e.env);
    expect(r.code).toBe(0);
    expect(existsSync(e.socket)).toBe(true);
    expect(existsSync(`${e.dir}/dotenv.sock`)).toBe(false);
  }, 60_000);

  test("a daemon that exits during start-up: message with the log tail, exit 1", async () => {
    const e = freshEnv();
    const long = `${e.dir}/${"s".repeat(120)}.sock`;
    const env = { ...e.env, ATM_SOCKET: long };
    const r = await cli(BUN_CMD, ["start", "-d"], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const bytes = Buffer.byteLength(long);
    expect(r.stderr).toBe(
      `atmd: daemon exited during start-up (exit status 1). Last lines of ${e.logFile}:\n` +
        `  atmd: socket path too long (${bytes} bytes, max 107): ${long}\n`,
    );
    expect(existsSync(e.lockFile)).toBe(false);
  }, 30_000);

  test("a daemon that does not answer within 5 s: message with the log tail, exit 1, left running", async () => {
    const e = freshEnv();
    // BUN_OPTIONS reaches the re-executed daemon: a preload that stalls only `start --foreground`.
    const preload = `${e.dir}/stall.ts`;
    writeFileSync(
      preload,
      `if (process.argv.includes("--foreground")) { console.error("stalling before start-up"); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 8000); }\n`,
    );
    const r = await cli(BUN_CMD, ["start", "-d"], { ...e.env, BUN_OPTIONS: `--preload ${preload}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const m = /^atmd: daemon \(PID (\d+)\) did not answer on (.*) within 5 seconds\. Last lines of (.*):\n  stalling before start-up\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(m?.[2]).toBe(e.socket);
    expect(m?.[3]).toBe(e.logFile);
    expect(r.ms).toBeGreaterThanOrEqual(4900);
    expect(alive(Number(m?.[1]))).toBe(true); // the daemon process is left running
  }, 30_000);

  test("the log tail shows at most the last 20 lines, indented", async () => {
    const e = freshEnv();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(e.state, { recursive: true, mode: 0o700 });
    writeFileSync(e.logFile, Array.from({ length: 40 }, (_, i) => `old line ${i}`).join("\n") + "\n", { mode: 0o600 });
    writeFileSync(e.socket, "not a socket");
    const r = await cli(BUN_CMD, ["start", "-d"], e.env);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe(`atmd: daemon exited during start-up (exit status 1). Last lines of ${e.logFile}:`);
    expect(lines.slice(1, -1)).toEqual([
      ...Array.from({ length: 19 }, (_, i) => `  old line ${21 + i}`),
      `  atmd: ${e.socket} exists and is not a socket; refusing to replace it`,
    ]);
    expect(readFileSync(e.socket, "utf8")).toBe("not a socket");
  }, 30_000);

  test("a log over 10 MiB is rotated to atm.log.1 before a detached start", async () => {
    const e = freshEnv();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(e.state, { recursive: true, mode: 0o700 });
    const big = 10 * 1024 * 1024 + 1;
    writeFileSync(e.logFile, Buffer.alloc(big, 0x61), { mode: 0o600 });
    writeFileSync(`${e.logFile}.1`, "older rotation\n");
    const r = await cli(BUN_CMD, ["start", "-d"], e.env);
    expect(r.code).toBe(0);
    expect(statSync(`${e.logFile}.1`).size).toBe(big);
    expect(statSync(e.logFile).size).toBeLessThan(10_000);
    expect((await cli(BUN_CMD, ["stop"], e.env)).code).toBe(0);
  }, 30_000);

  test("status and stop take no arguments (usage error, exit 2)", async () => {
    const e = freshEnv();
    const r = await cli(BUN_CMD, ["status", "--json"], e.env);
    expect([r.stdout, r.stderr, r.code]).toEqual(["", "atmd: unknown option '--json' for 'status'\nRun 'atmd --help' for usage.\n", 2]);
    const s = await cli(BUN_CMD, ["stop", "now"], e.env);
    expect([s.stdout, s.stderr, s.code]).toEqual(["", "atmd: unexpected argument 'now' for 'stop'\nRun 'atmd --help' for usage.\n", 2]);
  });
});

describe("single instance", () => {
  // ATMD_CONCURRENCY_ROUNDS=20 repeats the race (the issue wants 20 clean runs in a row).
  const rounds = Math.max(1, Number(process.env.ATMD_CONCURRENCY_ROUNDS ?? "1") || 1);
  test(`10 simultaneous start -d: one daemon, nine "already running" (${rounds} round(s))`, async () => {
    for (let round = 0; round < rounds; round++) {
      const e = freshEnv();
      const results = await Promise.all(Array.from({ length: 10 }, () => cli(BUN_CMD, ["start", "-d"], e.env, 30_000)));
      const winners = results.filter((r) => r.code === 0);
      const detail = JSON.stringify(results.map((r) => [r.code, r.stdout, r.stderr]), null, 1);
      expect(winners.length, detail).toBe(1);
      const pid = Number(/^Daemon started \(PID (\d+)\)\n$/.exec(winners[0]?.stdout ?? "")?.[1]);
      expect(pid).toBeGreaterThan(0);
      for (const r of results.filter((x) => x.code !== 0)) {
        expect([r.code, r.stdout, r.stderr], detail).toEqual([1, "", alreadyRunning(pid)]);
      }
      // Exactly one daemon process for this state dir, and it is the one that answers.
      expect(daemonsOf(e)).toEqual([pid]);
      const status = await cli(BUN_CMD, ["status"], e.env);
      expect(status.stdout.split("\n")[0]).toBe(`Daemon is running (PID ${pid})`);
      const stop = await cli(BUN_CMD, ["stop"], e.env);
      expect(stop.code).toBe(0);
      expect(daemonsOf(e)).toEqual([]);
      await cleanupEnvs();
    }
  }, 120_000 * rounds);

  // The harder race: a killed daemon left its socket, lock and PID file, so every starter takes
  // the stale-lock and stale-socket paths at once.
  test(`10 simultaneous start -d over a killed daemon's leftovers (${rounds} round(s))`, async () => {
    for (let round = 0; round < rounds; round++) {
      const d = await startDaemon();
      await d.stop("SIGKILL");
      const env = d.env;
      const results = await Promise.all(Array.from({ length: 10 }, () => cli(BUN_CMD, ["start", "-d"], env, 30_000)));
      const detail = JSON.stringify(results.map((r) => [r.code, r.stdout, r.stderr]), null, 1);
      const winners = results.filter((r) => r.code === 0);
      expect(winners.length, detail).toBe(1);
      const pid = Number(/^Daemon started \(PID (\d+)\)\n$/.exec(winners[0]?.stdout ?? "")?.[1]);
      for (const r of results.filter((x) => x.code !== 0)) {
        expect([r.code, r.stdout, r.stderr], detail).toEqual([1, "", alreadyRunning(pid)]);
      }
      const e = { env, dir: d.dir } as Parameters<typeof daemonsOf>[0];
      expect(daemonsOf(e)).toEqual([pid]);
      // The winner still owns the socket path (nobody unlinked its fresh socket).
      const status = await cli(BUN_CMD, ["status"], env);
      expect([status.stdout.split("\n")[0], status.code]).toEqual([`Daemon is running (PID ${pid})`, 0]);
      const stop = await cli(BUN_CMD, ["stop"], env);
      expect(stop.code).toBe(0);
      expect(daemonsOf(e)).toEqual([]);
      await stopAll();
    }
  }, 120_000 * rounds);
});

describe("stale files", () => {
  test("a SIGKILLed daemon's socket, pid file and lock never prevent a start", async () => {
    const d = await startDaemon();
    const e = { env: d.env, socket: d.socket, pidFile: `${d.stateDir}/atmd.pid`, lockFile: `${d.stateDir}/atmd.lock` };
    const oldPid = d.proc.pid;
    await d.stop("SIGKILL");
    for (const f of [e.socket, e.pidFile, e.lockFile]) expect(existsSync(f)).toBe(true);

    const status = await cli(BUN_CMD, ["status"], e.env);
    expect([status.stdout, status.code]).toEqual(["Daemon is not running.\n", 1]);
    // Leftover lock and PID file of a dead process are tidied up; the socket is the daemon's to check.
    expect(existsSync(e.pidFile)).toBe(false);
    expect(existsSync(e.lockFile)).toBe(false);

    const r = await cli(BUN_CMD, ["start", "-d"], e.env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = Number(/PID (\d+)/.exec(r.stdout)?.[1]);
    expect(pid).not.toBe(oldPid);
    expect((await cli(BUN_CMD, ["stop"], e.env)).code).toBe(0);
  }, 60_000);

  test("stale lock alone (dead pid) and stale socket alone", async () => {
    const d = await startDaemon();
    const lockFile = `${d.stateDir}/atmd.lock`;
    const lockText = readFileSync(lockFile, "utf8");
    await d.stop("SIGKILL");
    const { rmSync } = await import("node:fs");
    rmSync(`${d.stateDir}/atmd.pid`);
    rmSync(d.socket);
    expect(readFileSync(lockFile, "utf8")).toBe(lockText);
    const r = await cli(BUN_CMD, ["start", "-d"], d.env);
    expect([r.stderr, r.code]).toEqual(["", 0]);
    expect((await cli(BUN_CMD, ["stop"], d.env)).code).toBe(0);

    // Now only a stale socket (a start with -d leaves none behind, so kill one).
    const d2 = await startDaemon();
    await d2.stop("SIGKILL");
    rmSync(`${d2.stateDir}/atmd.pid`);
    rmSync(`${d2.stateDir}/atmd.lock`);
    expect(statSync(d2.socket).isSocket()).toBe(true);
    const r2 = await cli(BUN_CMD, ["start", "-d"], d2.env);
    expect([r2.stderr, r2.code]).toEqual(["", 0]);
    expect((await cli(BUN_CMD, ["stop"], d2.env)).code).toBe(0);
  }, 60_000);

  test("a PID file naming a live process that is not atmd is stale: never signalled", async () => {
    const e = freshEnv();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(e.state, { recursive: true, mode: 0o700 });
    const other = Bun.spawn(["sleep", "30"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      writeFileSync(e.pidFile, String(other.pid));
      const status = await cli(BUN_CMD, ["status"], e.env);
      expect([status.stdout, status.code]).toEqual(["Daemon is not running.\n", 1]);
      const stop = await cli(BUN_CMD, ["stop"], e.env);
      expect([stop.stdout, stop.stderr, stop.code]).toEqual(["Daemon is not running.\n", "", 0]);
      expect(alive(other.pid)).toBe(true);
      const r = await cli(BUN_CMD, ["start", "-d"], e.env);
      expect([r.stderr, r.code]).toEqual(["", 0]);
      const pid = Number(/PID (\d+)/.exec(r.stdout)?.[1]);
      expect(readFileSync(e.pidFile, "utf8")).toBe(String(pid));
      expect((await cli(BUN_CMD, ["stop"], e.env)).code).toBe(0);
      expect(alive(other.pid)).toBe(true);
    } finally {
      other.kill("SIGKILL");
      await other.exited;
    }
  }, 60_000);

  test("a lock naming a live process with another start time (reused pid) is stale", async () => {
    const e = freshEnv();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(e.state, { recursive: true, mode: 0o700 });
    const other = Bun.spawn(["sleep", "30"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      const start = Number(procStatFields(other.pid)[19]);
      writeFileSync(e.lockFile, `${other.pid} ${start + 1000}`);
      writeFileSync(e.pidFile, String(other.pid));
      const stop = await cli(BUN_CMD, ["stop"], e.env);
      expect([stop.stdout, stop.code]).toEqual(["Daemon is not running.\n", 0]);
      expect(alive(other.pid)).toBe(true);
      const r = await cli(BUN_CMD, ["start", "-d"], e.env);
      expect([r.stderr, r.code]).toEqual(["", 0]);
      expect((await cli(BUN_CMD, ["stop"], e.env)).code).toBe(0);
      expect(alive(other.pid)).toBe(true);
    } finally {
      other.kill("SIGKILL");
      await other.exited;
    }
  }, 60_000);

  test("a daemon that does not answer: status says so (exit 1)", async () => {
    const d = await startDaemon();
    const pid = d.proc.pid;
    process.kill(pid, "SIGSTOP");
    try {
      const status = await cli(BUN_CMD, ["status"], d.env);
      expect(status.stdout).toBe(`Daemon is running (PID ${pid})\nSocket: ${d.socket} (not answering)\n`);
      expect(status.code).toBe(1);
      // A start meanwhile must not displace it.
      const r = await cli(BUN_CMD, ["start", "-d"], d.env);
      expect([r.stderr, r.code]).toEqual([alreadyRunning(pid), 1]);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    expect(await d.stop()).toBe(0);
  }, 60_000);
});

describe("socket path", () => {
  test("a socket owned by another user is refused, naming the path", async () => {
    if (process.getuid?.() !== 0) {
      console.warn("skipped: needs root to create a socket owned by another uid");
      return;
    }
    const e = freshEnv();
    // A socket file with nobody behind it, then handed to uid 65534.
    const maker = Bun.spawn(
      [process.execPath, "-e", `Bun.listen({ unix: ${JSON.stringify(e.socket)}, socket: { data() {} } }); process.kill(process.pid, "SIGKILL");`],
      { stdout: "ignore", stderr: "ignore" },
    );
    await maker.exited;
    expect(statSync(e.socket).isSocket()).toBe(true);
    const { chownSync } = await import("node:fs");
    chownSync(e.socket, 65534, 65534);
    const msg = `atmd: ${e.socket} belongs to another user (uid 65534); refusing to use it\n`;
    const fg = await cli(BUN_CMD, ["start"], e.env);
    expect([fg.stdout, fg.stderr, fg.code]).toEqual(["", msg, 1]);
    const bg = await cli(BUN_CMD, ["start", "-d"], e.env);
    expect(bg.code).toBe(1);
    expect(bg.stderr).toContain(msg.trimEnd());
    expect(statSync(e.socket).uid).toBe(65534);
    expect(existsSync(e.lockFile)).toBe(false);
    expect(existsSync(e.pidFile)).toBe(false);
  }, 30_000);

  test("missing parent directories are created with mode 0700", async () => {
    const e = freshEnv();
    const sock = `${e.dir}/run/atm/atm.sock`;
    const env = { ...e.env, ATM_SOCKET: sock };
    const r = await cli(BUN_CMD, ["start", "-d"], env);
    expect([r.stderr, r.code]).toEqual(["", 0]);
    expect(statSync(`${e.dir}/run`).mode & 0o777).toBe(0o700);
    expect(statSync(`${e.dir}/run/atm`).mode & 0o777).toBe(0o700);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const stop = await cli(BUN_CMD, ["stop"], env);
    expect(stop.code).toBe(0);
    expect(existsSync(sock)).toBe(false);
  }, 30_000);

  test("a path too long for a unix socket", async () => {
    const e = freshEnv();
    const long = `${e.dir}/${"x".repeat(110)}`;
    const r = await cli(BUN_CMD, ["start"], { ...e.env, ATM_SOCKET: long });
    expect([r.stdout, r.stderr, r.code]).toEqual(["", `atmd: socket path too long (${Buffer.byteLength(long)} bytes, max 107): ${long}\n`, 1]);
    expect(existsSync(e.lockFile)).toBe(false);
  });

  test("something else listening on the socket: start refuses, status and stop say so", async () => {
    const e = freshEnv();
    // Accepts and answers garbage, like a daemon that is not atmd.
    const other = Bun.listen({
      unix: e.socket,
      socket: {
        data(s) {
          s.write("hello\n");
        },
      },
    });
    try {
      const r = await cli(BUN_CMD, ["start"], e.env);
      expect([r.stderr, r.code]).toEqual([`Another daemon is already listening on ${e.socket}\nUse 'atmd stop' to stop it first.\n`, 1]);
      const status = await cli(BUN_CMD, ["status"], e.env);
      expect([status.stdout, status.code]).toEqual([`A daemon is listening on ${e.socket}, but it is not atmd.\n`, 1]);
      const stop = await cli(BUN_CMD, ["stop"], e.env);
      expect([stop.stdout, stop.code]).toEqual(["Daemon is not running.\n", 0]);
      expect(statSync(e.socket).isSocket()).toBe(true);
    } finally {
      other.stop(true);
    }
  }, 30_000);
});
