// The single-instance lock (DAEMON.md §4.4): exclusive create, stale detection by pid and start
// time, and never removing a lock that a concurrent starter is still writing.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireLock, holderAlive, processRunning, processStartTime, readLock, releaseLock } from "../../src/system/lock.ts";
import { tempDir } from "../helpers/daemon.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function lockPath(): string {
  const d = tempDir("atmd-lock-");
  dirs.push(d);
  return join(d, "atmd.lock");
}

/** A pid that is certainly not running: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

describe("lock", () => {
  test("created exclusively with `<pid> <start time>`, mode 0600; a second take fails", () => {
    const path = lockPath();
    expect(acquireLock(path)).toEqual({ ok: true });
    expect(readFileSync(path, "utf8")).toBe(`${process.pid} ${processStartTime(process.pid)}`);
    expect(Bun.file(path).size).toBeGreaterThan(0);
    const other = acquireLock(path, process.pid);
    expect(other.ok).toBe(false);
    releaseLock(path);
    expect(existsSync(path)).toBe(false);
  });

  test("a lock whose pid is gone is stale and taken over", async () => {
    const path = lockPath();
    writeFileSync(path, `${await deadPid()} 12345`);
    expect(acquireLock(path)).toEqual({ ok: true });
    expect(readLock(path)?.holder?.pid).toBe(process.pid);
  });

  test("a live pid with a different start time (reused pid) is stale", () => {
    const path = lockPath();
    const start = processStartTime(process.pid) ?? 0;
    writeFileSync(path, `${process.ppid} ${start + 999_999}`);
    expect(holderAlive(readLock(path)?.holder)).toBe(false);
    expect(acquireLock(path)).toEqual({ ok: true });
  });

  test("a live holder with the right start time wins", () => {
    const path = lockPath();
    writeFileSync(path, `${process.ppid} ${processStartTime(process.ppid)}`);
    const r = acquireLock(path);
    expect(r).toEqual({ ok: false, holder: { pid: process.ppid, startTime: processStartTime(process.ppid) as number } });
    releaseLock(path); // not ours: kept
    expect(existsSync(path)).toBe(true);
  });

  test("zombies and nonsense pids are not running", async () => {
    expect(processRunning(await deadPid())).toBe(false);
    expect(processRunning(0)).toBe(false);
    expect(processRunning(-5)).toBe(false);
    expect(processRunning(2 ** 40)).toBe(false);
    expect(processRunning(process.pid)).toBe(true);
  });

  // A starter that has created the file (O_EXCL) but not yet written `<pid> <start>` leaves an
  // empty lock for a few microseconds. acquireLock treats that unparseable content as stale,
  // moves it aside, and — if the writer is still not done — deletes it and takes the lock too:
  // two winners. Then both daemons pass step 3 of DAEMON.md §4.1, and with a stale socket at the
  // path the second can unlink the first one's fresh socket (PROTOCOL.md §2.2). Eight threads
  // race for a fresh lock file in each round; exactly one may win every round.
  test("concurrent takers: exactly one winner per round", async () => {
    const dir = tempDir("atmd-lock-race-");
    dirs.push(dir);
    const N = 8;
    const rounds = 400;
    const lockModule = join(import.meta.dir, "../../src/system/lock.ts");
    const code = `
      import { acquireLock } from ${JSON.stringify(lockModule)};
      self.onmessage = (e) => {
        const { sab, dir, rounds } = e.data;
        const a = new Int32Array(sab);
        const wins = [];
        for (let r = 0; r < rounds; r++) {
          while (Atomics.load(a, 0) < r + 1) Atomics.wait(a, 0, r, 5);
          if (acquireLock(dir + "/lock-" + r).ok) wins.push(r);
          Atomics.add(a, 1, 1);
        }
        postMessage(wins);
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: "application/typescript" }));
    const sab = new SharedArrayBuffer(8);
    const gate = new Int32Array(sab);
    const workers = Array.from({ length: N }, () => new Worker(url));
    try {
      const results = Promise.all(
        workers.map(
          (w) =>
            new Promise<number[]>((resolve, reject) => {
              w.onmessage = (e: MessageEvent) => resolve(e.data as number[]);
              w.onerror = (e) => reject(new Error(String(e.message)));
              w.postMessage({ sab, dir, rounds });
            }),
        ),
      );
      for (let r = 0; r < rounds; r++) {
        Atomics.store(gate, 0, r + 1);
        Atomics.notify(gate, 0);
        const deadline = performance.now() + 10_000;
        while (Atomics.load(gate, 1) < N * (r + 1)) {
          if (performance.now() > deadline) throw new Error(`round ${r} did not finish`);
          await Bun.sleep(0);
        }
      }
      const winners = new Map<number, number>();
      for (const wins of await results) for (const r of wins) winners.set(r, (winners.get(r) ?? 0) + 1);
      const doubled = [...winners.entries()].filter(([, n]) => n > 1).map(([r]) => r);
      expect(winners.size).toBe(rounds);
      expect(doubled).toEqual([]);
    } finally {
      for (const w of workers) w.terminate();
      URL.revokeObjectURL(url);
    }
  }, 60_000);
});
