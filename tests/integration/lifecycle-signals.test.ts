// Signals (DAEMON.md §8): SIGTERM, SIGINT and SIGHUP each stop the daemon gracefully — socket
// file gone at once, PID and lock files removed, exit 0 — and a second signal during shutdown
// skips the rest of the 1 s flush.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUN, msg, startDaemon, stopAll, type TestDaemon, withTimeout } from "../helpers/daemon.ts";

afterEach(async () => {
  await stopAll();
});

/** Polls (every 1 ms) until `path` is gone; returns the elapsed ms. */
async function goneWithin(path: string, ms: number): Promise<number> {
  const t0 = performance.now();
  while (existsSync(path)) {
    if (performance.now() - t0 > ms) throw new Error(`${path} still there after ${ms} ms`);
    await Bun.sleep(1);
  }
  return performance.now() - t0;
}

describe("graceful shutdown", () => {
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${sig}: socket gone at once, pid and lock removed, subscribers see the end, exit 0`, async () => {
      const d = await startDaemon();
      const sub = await d.client("sub");
      sub.request("subscribe");
      await sub.expect("session_list");
      const pidFile = join(d.stateDir, "atmd.pid");
      const lockFile = join(d.stateDir, "atmd.lock");
      expect(existsSync(pidFile) && existsSync(lockFile)).toBe(true);

      d.proc.kill(sig);
      const ms = await goneWithin(d.socket, 2000);
      console.log(`${sig}: socket file gone ${ms.toFixed(1)} ms after the signal`);
      // The spec's bound is 100 ms; allow for a loaded 2-core CI machine.
      expect(ms).toBeLessThan(500);
      const code = await withTimeout(d.proc.exited, 5000, "daemon exit");
      expect(code).toBe(0);
      expect(existsSync(pidFile)).toBe(false);
      expect(existsSync(lockFile)).toBe(false);
      await withTimeout(sub.closed, 2000, "subscriber close");
      expect(d.stderr()).toContain(`shutting down (${sig})`);
    }, 30_000);
  }
});

/**
 * A subscriber that stops reading: a child process subscribes, then is SIGSTOPped. The daemon's
 * queue for it then fills once the kernel buffers are full.
 */
async function stuckSubscriber(d: TestDaemon) {
  const script = `
    const s = await Bun.connect({ unix: ${JSON.stringify(d.socket)}, socket: { data(_s, b) { if (String(b).includes("session_list")) console.log("subscribed"); } } });
    s.write(${JSON.stringify(msg("connect", { client_id: "stuck" }) + msg("subscribe"))});
    setInterval(() => {}, 1000);`;
  const p = Bun.spawn([BUN, "-e", script], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const reader = p.stdout.getReader();
  const first = await withTimeout(reader.read(), 10_000, "stuck subscriber start");
  expect(new TextDecoder().decode(first.value)).toContain("subscribed");
  reader.releaseLock();
  process.kill(p.pid, "SIGSTOP");
  return p;
}

/** Publishes ~3 MB of session_updated broadcasts (under the 8 MiB slow-consumer cap). */
async function flood(d: TestDaemon): Promise<void> {
  const c = await d.client("flood");
  const big = "x".repeat(200);
  let batch = "";
  for (let i = 0; i < 2500; i++) {
    batch += msg("status_update", {
      data: {
        session_id: "flood-session",
        pid: 4_000_000,
        cwd: `/tmp/${big}`,
        model: { id: "claude-opus-4-5-20251101" },
        cost: { total_cost_usd: i / 100, total_duration_ms: i * 1000 },
      },
    });
    if (i % 250 === 249) {
      c.send(batch);
      batch = "";
      await c.flushed();
    }
  }
  // A ping answered means every update before it was applied and broadcast.
  c.request("ping", { seq: 7 });
  await c.expect("pong", 10_000);
  c.close();
}

describe("second signal", () => {
  test("without it, a stuck subscriber holds the flush for about 1 s; with it, shutdown ends at once (exit 0)", async () => {
    const timeShutdown = async (second: boolean) => {
      const d = await startDaemon();
      const stuck = await stuckSubscriber(d);
      try {
        await flood(d);
        const t0 = performance.now();
        d.proc.kill("SIGTERM");
        await goneWithin(d.socket, 2000);
        if (second) {
          await Bun.sleep(50);
          d.proc.kill("SIGINT");
        }
        const code = await withTimeout(d.proc.exited, 5000, "daemon exit");
        const ms = performance.now() - t0;
        expect(code).toBe(0);
        expect(existsSync(join(d.stateDir, "atmd.pid"))).toBe(false);
        expect(existsSync(join(d.stateDir, "atmd.lock"))).toBe(false);
        return ms;
      } finally {
        stuck.kill("SIGKILL");
        await stuck.exited;
      }
    };
    const one = await timeShutdown(false);
    const two = await timeShutdown(true);
    console.log(`shutdown with a stuck subscriber: ${one.toFixed(0)} ms; with a second signal: ${two.toFixed(0)} ms`);
    expect(one).toBeGreaterThanOrEqual(900);
    expect(two).toBeLessThan(one - 300);
  }, 60_000);
});
