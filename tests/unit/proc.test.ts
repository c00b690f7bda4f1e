// system/proc.ts against real child processes: /proc/<pid>/stat parsing after the last `)`,
// parent chain, cwd/comm/exe/argv0, verification and liveness (incl. zombies and exits).
import { afterEach, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ancestors, hasProc, parentPid, parseProcStat, pidAlive, pidExists, procArgv0, procComm, procCwd,
  procExe, readProcStat, readProcStatAsync, verifyPid,
} from "../../src/system/proc.ts";

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function start(cmd: string, args: string[], cwd?: string): ChildProcess {
  const c = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "ignore"] });
  children.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const linux = hasProc();

describe("parseProcStat", () => {
  test.each([
    ["41000 (claude) S 1 41000 41000 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 12 0 987654 100 200", "claude", "S", 1, 987654],
    ["7 (a) b (c)) Z 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 42 0", "a) b (c)", "Z", 3, 42],
    ["9 (with space ) ) R 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5 0", "with space ) ", "R", 2, 5],
  ])("%p", (text, comm, state, ppid, st) => {
    expect(parseProcStat(text)).toMatchObject({ comm, state, ppid, startTime: st });
  });
  test.each(["", "garbage", "1 (x) S", "1 (x) S notanumber 0"])("rejects %p", (text) => {
    expect(parseProcStat(text)).toBeUndefined();
  });
});

describe.if(linux)("real processes", () => {
  test("own stat, parent and ancestry", async () => {
    const st = readProcStat(process.pid);
    expect(st?.ppid).toBe(process.ppid);
    expect(Number.isInteger(st?.startTime)).toBe(true);
    expect((await readProcStatAsync(process.pid))?.startTime).toBe(st?.startTime as number);
    expect(pidExists(process.pid)).toBe(true);
  });

  test("a child: parent, cwd, comm, exe, argv0, verification, death", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-proc-é-"));
    dirs.push(dir);
    const c = start("sleep", ["30"], dir);
    const pid = c.pid as number;
    await sleep(50);
    expect(parentPid(pid)).toBe(process.pid);
    expect(ancestors(pid, 15)[0]).toBe(process.pid);
    expect(ancestors(pid, 15).at(-1)).toBeLessThanOrEqual(1);
    expect(procCwd(pid)).toBe(dir);
    expect(procComm(pid)).toBe("sleep");
    expect(procExe(pid)).toMatch(/sleep$|coreutils$/);
    expect(procArgv0(pid)).toBe("sleep");
    const check = verifyPid(pid);
    expect(check.verified).toBe(true);
    expect(await pidAlive(pid, check.startTime)).toBe(true);
    expect(await pidAlive(pid, (check.startTime as number) + 1)).toBe(false); // reused pid
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
    await sleep(20);
    expect(await pidAlive(pid, check.startTime)).toBe(false);
    expect(verifyPid(pid).verified).toBe(false);
    expect([procCwd(pid), procComm(pid), procArgv0(pid), readProcStat(pid)]).toEqual([undefined, undefined, undefined, undefined]);
  });

  test("a command name with spaces and parentheses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-proc-"));
    dirs.push(dir);
    const weird = join(dir, "a) b (c");
    symlinkSync("/bin/sleep", weird);
    const c = start(weird, ["30"]);
    await sleep(50);
    const st = readProcStat(c.pid as number);
    expect(st).toMatchObject({ comm: "a) b (c", state: "S", ppid: process.pid });
  });

  test("a zombie is not verified and not alive", async () => {
    // The shell backgrounds a short child and then execs a process that never reaps it.
    const c = start("sh", ["-c", "sleep 0.05 & echo $!; exec sleep 30"]);
    const zpid = await new Promise<number>((resolve) => c.stdout?.once("data", (b: Buffer) => resolve(Number(b.toString().trim()))));
    await sleep(300);
    expect(readProcStat(zpid)?.state).toBe("Z");
    expect(verifyPid(zpid).verified).toBe(false);
    expect(await pidAlive(zpid, undefined)).toBe(false);
  });
});

describe("bad pids never throw", () => {
  test.each([0, -1, 1.5, Number.NaN, 4_294_967_295, 2 ** 53])("%p", async (pid) => {
    expect(readProcStat(pid)).toBeUndefined();
    expect(pidExists(pid)).toBe(false);
    expect(verifyPid(pid).verified).toBe(false);
    expect(await pidAlive(pid, undefined)).toBe(false);
    expect([procCwd(pid), procComm(pid), procExe(pid), procArgv0(pid), parentPid(pid)]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
