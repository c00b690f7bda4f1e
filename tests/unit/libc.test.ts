// The libc binding `atmd hook` uses instead of node:fs and Bun's sockets (src/system/libc.ts):
// every call compared with what node:fs or a real server sees, and every way it must not block.
import { afterEach, describe, expect, test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { chownSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { libc } from "../../src/system/libc.ts";
import { tempDir } from "../helpers/daemon.ts";

const supported = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const ROOT = join(import.meta.dir, "..", "..");

/** A raw socket bound at `path` (a socket file), listening with `backlog` unless null. */
function rawSocket(path: string, backlog: number | null): () => void {
  const { i32, ptr, u32 } = FFIType;
  const { symbols: k, close: unload } = dlopen("libc.so.6", {
    socket: { args: [i32, i32, i32], returns: i32 },
    bind: { args: [i32, ptr, u32], returns: i32 },
    listen: { args: [i32, i32], returns: i32 },
    close: { args: [i32], returns: i32 },
  });
  const addr = new Uint8Array(110);
  addr[0] = 1; // AF_UNIX
  addr.set(new TextEncoder().encode(path), 2);
  const fd = k.socket(1, 1, 0);
  if (k.bind(fd, addr, 110) !== 0) throw new Error(`bind ${path}`);
  if (backlog !== null && k.listen(fd, backlog) !== 0) throw new Error(`listen ${path}`);
  return () => {
    k.close(fd);
    unload();
    rmSync(path, { force: true });
  };
}

/** A script that prints what `libc().readStdinNow(<args>)` gets from its own stdin. */
function stdinReader(args: string): string {
  const script = join(tempDir(), "read.ts");
  writeFileSync(
    script,
    `import { libc } from ${JSON.stringify(join(ROOT, "src/system/libc.ts"))};
     const r = libc().readStdinNow(${args});
     console.log(r === null ? "null" : r === undefined ? "undefined"
       : JSON.stringify({ n: r.chunks.reduce((a, c) => a + c.length, 0), eof: r.eof }));
     process.exit(0);`,
  );
  return script;
}

describe.if(supported)("libc binding", () => {
  const servers: { stop(force?: boolean): void }[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.stop(true);
  });

  test("binds here (the hook's fast path is not silently replaced by the fallback)", () => {
    expect(libc()).not.toBeNull();
  });

  test("readFile: /proc files, multi-chunk files, missing files, the size cap", () => {
    const c = libc()!;
    const stat = c.readFile(`/proc/${process.pid}/cmdline`);
    expect(Buffer.from(stat!).equals(readFileSync(`/proc/${process.pid}/cmdline`))).toBe(true);
    const dir = tempDir();
    const big = join(dir, "big");
    const data = Buffer.alloc(200_000 + 17, "abc");
    writeFileSync(big, data);
    expect(Buffer.from(c.readFile(big)!).equals(data)).toBe(true);
    expect(c.readFile(big, 1000)).toBeNull();
    expect(c.readFile(join(dir, "missing"))).toBeNull();
    expect(c.readFile(dir)).toBeNull(); // a directory cannot be read
    writeFileSync(join(dir, "empty"), "");
    expect(c.readFile(join(dir, "empty"))?.length).toBe(0);
  });

  test("readlink: same target as node:fs, UTF-8 included; null for a non-link", () => {
    const c = libc()!;
    expect(c.readlink("/proc/self/exe")).toBe(readlinkSync("/proc/self/exe"));
    const dir = tempDir();
    symlinkSync("/opt/é/claude", join(dir, "l"));
    expect(c.readlink(join(dir, "l"))).toBe("/opt/é/claude");
    writeFileSync(join(dir, "f"), "");
    expect(c.readlink(join(dir, "f"))).toBeNull();
    expect(c.readlink(join(dir, "missing"))).toBeNull();
  });

  test("checkSocket: a socket, a regular file, a missing path", () => {
    const c = libc()!;
    const dir = tempDir();
    const sock = join(dir, "s.sock");
    servers.push(Bun.listen({ unix: sock, socket: { data() {} } }));
    expect(c.checkSocket(sock)).toBe("ok");
    writeFileSync(join(dir, "file"), "");
    expect(c.checkSocket(join(dir, "file"))).toBe("no-socket");
    expect(c.checkSocket(join(dir, "missing"))).toBe("no-socket");
    expect(c.checkSocket(dir)).toBe("no-socket");
  });

  test.if(process.getuid?.() === 0)("checkSocket: a socket owned by another user", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "d"));
    const sock = join(dir, "d", "s.sock");
    servers.push(Bun.listen({ unix: sock, socket: { data() {} } }));
    chownSync(sock, 65534, 65534);
    expect(libc()!.checkSocket(sock)).toBe("foreign-socket");
  });

  test("send: 3 MB arrive intact at a reading server (short writes resumed)", async () => {
    const dir = tempDir();
    const sock = join(dir, "s.sock");
    const got: Uint8Array[] = [];
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    servers.push(
      Bun.listen({
        unix: sock,
        socket: {
          data(_s, d) {
            got.push(new Uint8Array(d));
          },
          close() {
            closed();
          },
        },
      }),
    );
    const payload = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    // The server runs on this thread's event loop: send from a child so both make progress.
    const child = Bun.spawn(
      [
        process.execPath,
        "-e",
        `import { libc } from ${JSON.stringify(join(ROOT, "src/system/libc.ts"))};
         const p = new Uint8Array(${payload.length}); for (let i = 0; i < p.length; i++) p[i] = i % 251;
         console.log(await libc().send(${JSON.stringify(sock)}, p, performance.now() + 5000));`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    expect((await new Response(child.stdout).text()).trim()).toBe("sent");
    await Promise.race([done, Bun.sleep(5000)]);
    expect(Buffer.concat(got).equals(Buffer.from(payload))).toBe(true);
  });

  test("send: a server that never reads → timeout at the deadline, not later, timers still running", async () => {
    const dir = tempDir();
    const sock = join(dir, "s.sock");
    servers.push(
      Bun.listen({
        unix: sock,
        socket: {
          open(s) {
            s.pause();
          },
          data() {},
        },
      }),
    );
    const t0 = performance.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const r = await libc()!.send(sock, new Uint8Array(8 * 1024 * 1024), t0 + 150);
    const ms = performance.now() - t0;
    clearInterval(ticker);
    expect(r).toBe("timeout");
    expect(ticks).toBeGreaterThan(3); // it waited on the event loop, not in a blocking call
    expect(ms).toBeGreaterThanOrEqual(149);
    expect(ms).toBeLessThan(1000);
  });

  test("send: missing path, stale socket file, regular file, over-long path → connect-failed", async () => {
    const c = libc()!;
    const dir = tempDir();
    const deadline = performance.now() + 1000;
    const msg = new TextEncoder().encode("x\n");
    expect(await c.send(join(dir, "missing"), msg, deadline)).toBe("connect-failed");
    writeFileSync(join(dir, "file"), "");
    expect(await c.send(join(dir, "file"), msg, deadline)).toBe("connect-failed");
    const stale = join(dir, "stale.sock");
    const unbind = rawSocket(stale, null); // a socket file nobody listens on
    try {
      expect(c.checkSocket(stale)).toBe("ok");
      expect(await c.send(stale, msg, deadline)).toBe("connect-failed");
    } finally {
      unbind();
    }
    expect(await c.send(`${dir}/${"x".repeat(120)}`, msg, deadline)).toBe("connect-failed");
  });

  test("send: a full listen backlog is retried until the deadline", async () => {
    // A raw listener with backlog 0 that never accepts: the first connection fills the queue,
    // the next non-blocking connect gets EAGAIN.
    const dir = tempDir();
    const sock = join(dir, "b.sock");
    const unbind = rawSocket(sock, 0);
    try {
      const c = libc()!;
      const msg = new TextEncoder().encode("x\n");
      const results: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) results.push(await c.send(sock, msg, performance.now() + 60));
      const ms = performance.now() - t0;
      expect(results[0]).toBe("sent"); // queued in the backlog, written into the socket buffer
      expect(results).toContain("timeout");
      expect(ms).toBeLessThan(1000);
    } finally {
      unbind();
    }
  });

  test("readStdinNow: sockets (what child_process gives), pipes and files; open, closed, too big", async () => {
    const dir = tempDir();
    const script = stdinReader("100000");
    const big = join(dir, "big");
    writeFileSync(big, "x".repeat(150_000));
    const out = async (p: Bun.Subprocess<"pipe" | Bun.BunFile | "ignore", "pipe", "inherit">): Promise<string> =>
      (await new Response(p.stdout).text()).trim();
    const bun = process.execPath;

    // Bun.spawn's "pipe" is a socketpair, as in Node (libuv): written and shut down → all of it.
    const closed = Bun.spawn([bun, script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    closed.stdin.write("x".repeat(70_000));
    await closed.stdin.end();
    expect(await out(closed)).toBe(JSON.stringify({ n: 70_000, eof: true }));
    // Nothing written yet, writer still there → nothing, not at EOF (the caller streams the rest).
    const open = Bun.spawn([bun, script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    expect(await out(open)).toBe(JSON.stringify({ n: 0, eof: false }));
    await open.stdin.end();
    // A pipe and a regular file take the /proc/self/fd/0 path. dash writes a small here-document
    // into a pipe and closes it before running the command, so the pipe is complete and at EOF.
    const piped = Bun.spawn(["/bin/sh", "-c", `'${bun}' '${script}' <<'EOF'\n${"y".repeat(999)}\nEOF\n`], {
      stdout: "pipe",
      stderr: "inherit",
    });
    expect(await out(piped)).toBe(JSON.stringify({ n: 1000, eof: true }));
    const file = Bun.spawn([bun, script], { stdin: Bun.file(big), stdout: "pipe", stderr: "inherit" });
    expect(await out(file)).toBe("null"); // 150,000 bytes against a limit of 100,000
  });

  test("readStdinNow stops at the deadline: what it has, not at EOF (the stream reads on)", async () => {
    const dir = tempDir();
    const script = stdinReader("1e7, performance.now() - 1");
    const big = join(dir, "big");
    writeFileSync(big, "x".repeat(300_000));
    const p = Bun.spawn([process.execPath, script], { stdin: Bun.file(big), stdout: "pipe", stderr: "inherit" });
    const r = JSON.parse((await new Response(p.stdout).text()).trim());
    expect(r.eof).toBe(false);
    expect(r.n).toBeGreaterThan(0);
    expect(r.n).toBeLessThan(300_000);
  });
});

describe.if(!supported)("libc binding elsewhere", () => {
  test("is not offered, so callers use node:fs", () => {
    expect(libc()).toBeNull();
  });
});

test("ATM_HOOK_NO_FFI=1 turns the binding off", async () => {
  const child = Bun.spawn(
    [
      process.execPath,
      "-e",
      `import { libc } from ${JSON.stringify(join(ROOT, "src/system/libc.ts"))}; console.log(libc() === null);`,
    ],
    { env: { ...process.env, ATM_HOOK_NO_FFI: "1" }, stdout: "pipe" },
  );
  expect((await new Response(child.stdout).text()).trim()).toBe("true");
});
