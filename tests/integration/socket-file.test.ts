// The socket file at start-up (PROTOCOL.md §2.2, DAEMON.md §4.3/§4.4): mode 0600, a live daemon's
// socket is never taken over (a second daemon exits 1 with the exact message), a stale socket is
// replaced, and anything that is not a socket is refused and left alone.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, privateEnv, startDaemon, stopAll, tempDir as makeTempDir, type TestDaemon, withTimeout } from "../helpers/daemon.ts";

/** Stops a daemon this test started and removes its temp dir. */
async function finish(daemon: TestDaemon): Promise<number | null> {
  const code = await daemon.stop();
  rmSync(daemon.dir, { recursive: true, force: true });
  return code;
}

const dirs: string[] = [];
function tempDir(): string {
  const d = makeTempDir();
  dirs.push(d);
  return d;
}

afterAll(async () => {
  await stopAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs `atmd start --foreground` expecting it to exit by itself; returns its exit code and stderr. */
async function startExpectingExit(env: Record<string, string>, cwd: string): Promise<{ code: number | null; stderr: string }> {
  const proc = Bun.spawn([BUN, MAIN, "start", "--foreground"], { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const code = await withTimeout(proc.exited, 15_000, "second daemon exit");
    const stderr = await new Response(proc.stderr).text();
    return { code, stderr };
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

async function pingOk(socket: string): Promise<void> {
  const { openClient } = await import("../helpers/client.ts");
  const c = await openClient(socket, "check");
  c.request("ping", { seq: 5 });
  expect(await c.next()).toEqual({ type: "pong", seq: 5 });
  c.close();
}

describe("socket file", () => {
  test("is created with mode 0600 (srw-------)", async () => {
    const d = await startDaemon();
    const st = lstatSync(d.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    await finish(d);
  });

  test("a second daemon on the same socket and state dir exits 1: already running (PID n); the first keeps serving", async () => {
    const d = await startDaemon();
    const ino = lstatSync(d.socket).ino;
    const r = await startExpectingExit(d.env, d.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Daemon is already running (PID ${d.proc.pid})\nUse 'atmd stop' to stop it first.\n`);
    expect(lstatSync(d.socket).ino).toBe(ino);
    await pingOk(d.socket);
    await finish(d);
  });

  test("a second daemon with another state dir but the same live socket exits 1; the socket is not stolen", async () => {
    const d = await startDaemon();
    const ino = lstatSync(d.socket).ino;
    const other = tempDir();
    const env = privateEnv(other, { ATM_SOCKET: d.socket });
    const r = await startExpectingExit(env, other);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Daemon is already running (PID ${d.proc.pid})\nUse 'atmd stop' to stop it first.\n`);
    expect(lstatSync(d.socket).ino).toBe(ino);
    expect(lstatSync(d.socket).isSocket()).toBe(true);
    await pingOk(d.socket);
    await finish(d);
  });

  test("a live daemon at its connection cap is still recognised: exit 1, already running, not stolen", async () => {
    const d = await startDaemon({ env: { ATM_MAX_CONNECTIONS: "1" } });
    const { openClient } = await import("../helpers/client.ts");
    const holder = await openClient(d.socket, "holder"); // takes the only slot
    const ino = lstatSync(d.socket).ino;
    const other = tempDir();
    const r = await startExpectingExit(privateEnv(other, { ATM_SOCKET: d.socket }), other);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Daemon is already running on ${d.socket} (it is at its connection cap)\nUse 'atmd stop' to stop it first.\n`);
    expect(lstatSync(d.socket).ino).toBe(ino);
    holder.close();
    await finish(d);
  });

  test("a stale socket (nobody listening) is replaced and served", async () => {
    const dir = tempDir();
    const socket = join(dir, "atm.sock");
    // A listener that exits without cleaning up leaves a stale socket file behind.
    const leaver = Bun.spawn(
      [BUN, "-e", `Bun.listen({ unix: ${JSON.stringify(socket)}, socket: { data() {} } }); process.kill(process.pid, "SIGKILL");`],
      { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
    );
    await withTimeout(leaver.exited, 10_000, "stale socket maker");
    expect(lstatSync(socket).isSocket()).toBe(true);
    // Precondition: it really is stale (connect is refused).
    const refused = await Bun.connect({ unix: socket, socket: { data() {} } }).then(
      (s) => {
        s.end();
        return "connected";
      },
      (e: unknown) => (e as { code?: string }).code,
    );
    expect(refused).toBe("ECONNREFUSED");
    const d = await startDaemon({ dir });
    const after = lstatSync(d.socket);
    expect(after.isSocket()).toBe(true);
    // Replaced by the daemon's own socket: mode 0600 (the leftover had 0755 & ~umask).
    expect(after.mode & 0o777).toBe(0o600);
    await pingOk(d.socket);
    await finish(d);
  });

  test("a regular file at the path: refused with the exact message, exit 1, file left alone", async () => {
    const dir = tempDir();
    const socket = join(dir, "atm.sock");
    writeFileSync(socket, "precious data\n");
    const r = await startExpectingExit(privateEnv(dir), dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`atmd: ${socket} exists and is not a socket; refusing to replace it\n`);
    expect(readFileSync(socket, "utf8")).toBe("precious data\n");
    expect(lstatSync(socket).isFile()).toBe(true);
  });

  test("a directory at the path: refused, left alone", async () => {
    const dir = tempDir();
    const socket = join(dir, "atm.sock");
    mkdirSync(socket);
    const r = await startExpectingExit(privateEnv(dir), dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`atmd: ${socket} exists and is not a socket; refusing to replace it\n`);
    expect(lstatSync(socket).isDirectory()).toBe(true);
  });

  test("a symbolic link at the path (even to a live socket) is not followed: refused, left alone", async () => {
    const d = await startDaemon();
    const dir = tempDir();
    const socket = join(dir, "atm.sock");
    symlinkSync(d.socket, socket);
    const r = await startExpectingExit(privateEnv(dir), dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`atmd: ${socket} exists and is not a socket; refusing to replace it\n`);
    expect(lstatSync(socket).isSymbolicLink()).toBe(true);
    await pingOk(d.socket);
    await finish(d);
  });

  test("graceful stop removes the socket file", async () => {
    const d = await startDaemon();
    expect(await d.stop()).toBe(0);
    expect(() => lstatSync(d.socket)).toThrow();
  });
});
