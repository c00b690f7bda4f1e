// Discovery through the daemon (SESSIONS.md §12, PROTOCOL.md `discover`): a fake `claude` (a copy
// of sleep) running in a temp git repo is found by `discover` and by the start-up scan, false
// positives are not, tracked pids are skipped, and a hanging tmux delays nothing for long.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LineClient } from "../../src/transport/client.ts";
import { startDaemon, stopAll, type TestDaemon } from "../helpers/daemon.ts";
import { claudeFixture, execed, killFakes, spawnFake } from "../helpers/fake-claude.ts";

const linux = process.platform === "linux";

afterEach(async () => {
  await stopAll();
  await killFakes();
});

type View = { id: string; working_directory: string | null; tmux_pane: string | null; model: string; status: string };

async function sessions(c: LineClient): Promise<View[]> {
  c.request("list_sessions");
  const m = await c.expect("session_list");
  return m.sessions as View[];
}

async function discover(c: LineClient, timeoutMs = 10_000): Promise<{ discovered: number; failed: number }> {
  c.request("discover");
  const m = await c.expect("discovery_complete", timeoutMs);
  return { discovered: m.discovered as number, failed: m.failed as number };
}

describe.skipIf(!linux)("discovery via the daemon", () => {
  test("discover finds a fake claude in a git repo; false positives are not found; tracked pids are skipped", async () => {
    const f = claudeFixture("atmd-disc-int-");
    const claude = spawnFake([f.claude, "30"], f.repo);
    const fp1 = spawnFake(["sh", "-c", "sleep 30; : claude"], f.repo);
    const fp2 = spawnFake(["sh", "-c", "sleep 30; :", f.claude], f.repo);
    await execed(claude.pid, "claude");
    const d: TestDaemon = await startDaemon();
    const c = await d.client("disc-test");
    expect((await sessions(c)).some((s) => s.id === `pending-${claude.pid}`)).toBe(false);

    const r = await discover(c);
    expect(r.discovered).toBeGreaterThanOrEqual(1);
    expect(r.failed).toBe(0);
    const list = await sessions(c);
    const mine = list.filter((s) => s.id === `pending-${claude.pid}`);
    expect(mine.length).toBe(1);
    expect(mine[0]?.working_directory).toBe(f.repo);
    expect(mine[0]?.status).toBe("idle");
    expect(mine[0]?.model).toBe("Unknown");
    for (const p of [fp1, fp2]) expect(list.some((s) => s.id === `pending-${p.pid}`)).toBe(false);

    // Already tracked: not created again, no duplicate.
    await discover(c);
    expect((await sessions(c)).filter((s) => s.id === `pending-${claude.pid}`).length).toBe(1);
    c.close();
  }, 30_000);

  test("the start-up scan (ATM_NO_DISCOVERY unset) finds it without delaying the socket", async () => {
    const f = claudeFixture("atmd-disc-int-");
    const claude = spawnFake([f.claude, "30"], f.repo);
    await execed(claude.pid, "claude");
    const env: Record<string, string> = {};
    const d = await startDaemon({ env: { ...env, ATM_NO_DISCOVERY: "0" } });
    const c = await d.client("disc-test");
    const deadline = performance.now() + 10_000;
    let found: View | undefined;
    while (performance.now() < deadline) {
      found = (await sessions(c)).find((s) => s.id === `pending-${claude.pid}`);
      if (found) break;
      await Bun.sleep(20);
    }
    expect(found?.working_directory).toBe(f.repo);
    expect(d.stderr()).toMatch(/discovery: \d+ new sessions?, 0 failed/);
    // id_short of pending-<pid> is "pending-"; the pid says which (DAEMON.md §9).
    expect(d.stderr()).toContain(`INFO session pending- created (pid ${claude.pid}, from discovery)\n`);
    c.close();
  }, 30_000);

  /**
   * A fake claude running, and a daemon whose PATH has a `tmux` that hangs for 30 s (running
   * `before` first, given the fixture's directory).
   */
  async function withHangingTmux(before: (dir: string) => string = () => "") {
    const f = claudeFixture("atmd-disc-int-");
    const fakeBin = join(f.dir, "fakebin");
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, "tmux"), `#!/bin/sh\n${before(f.dir)}exec sleep 30\n`);
    chmodSync(join(fakeBin, "tmux"), 0o755);
    const claude = spawnFake([f.claude, "30"], f.repo);
    await execed(claude.pid, "claude");
    const d = await startDaemon({ env: { PATH: `${fakeBin}:${process.env.PATH ?? "/usr/bin:/bin"}` } });
    return { f, claude, d };
  }

  test("a hanging tmux: discover still completes (about 1 s) and finds the process, no pane", async () => {
    const { claude, d } = await withHangingTmux();
    const c = await d.client("disc-test");
    const t0 = performance.now();
    await discover(c);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5000);
    const mine = (await sessions(c)).find((s) => s.id === `pending-${claude.pid}`);
    expect(mine?.tmux_pane).toBeNull();
    c.close();
  }, 30_000);

  test("other connections are served while a discover waits on a hanging tmux", async () => {
    const { d } = await withHangingTmux();
    const c = await d.client("disc-a");
    const other = await d.client("disc-b");
    c.request("discover");
    await Bun.sleep(100);
    const t0 = performance.now();
    other.request("ping", { seq: 1 });
    await other.expect("pong", 5000);
    expect(performance.now() - t0).toBeLessThan(500);
    await c.expect("discovery_complete", 10_000);
    c.close();
    other.close();
  }, 30_000);

  test("shutdown during a scan with a hanging tmux kills tmux and exits promptly", async () => {
    // The fake tmux records its pid so the test can check it was killed.
    const { f, d } = await withHangingTmux((dir) => `echo $$ > ${dir}/tmux.pid\n`);
    const c = await d.client("disc-a");
    c.request("discover");
    const pidFile = Bun.file(join(f.dir, "tmux.pid"));
    const deadline = performance.now() + 5000;
    while (!(await pidFile.exists()) && performance.now() < deadline) await Bun.sleep(10);
    const tmuxPid = Number((await pidFile.text()).trim());
    const t0 = performance.now();
    expect(await d.stop()).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1500);
    // Gone or a zombie (where pid 1 does not reap, a killed orphan lingers as one).
    const gone = () => {
      try {
        const st = readFileSync(`/proc/${tmuxPid}/stat`, "latin1");
        return /^[ZX]/.test(st.slice(st.lastIndexOf(")") + 2));
      } catch {
        return true;
      }
    };
    const until = performance.now() + 3000;
    while (!gone() && performance.now() < until) await Bun.sleep(10);
    expect(gone()).toBe(true);
  }, 30_000);

  const tmux = Bun.which("tmux");
  test.skipIf(tmux === null)("real tmux: the pane of the claude is attached", async () => {
    const f = claudeFixture("atmd-disc-int-");
    // A private tmux server the daemon finds through the same TMUX_TMPDIR.
    const tmuxDir = join(f.dir, "tmux");
    mkdirSync(tmuxDir, { mode: 0o700 });
    const tenv = { ...process.env, TMUX_TMPDIR: tmuxDir } as Record<string, string>;
    delete tenv.TMUX;
    const run = (...a: string[]) => Bun.spawnSync(["tmux", ...a], { env: tenv, stdout: "pipe", stderr: "pipe" });
    const r = run("new-session", "-d", "-s", "t", "-c", f.repo, `sh -c '${f.claude} 30; :'`);
    try {
      expect(r.exitCode).toBe(0);
      const [pane, shell] = run("list-panes", "-a", "-F", "#{pane_id} #{pane_pid}").stdout.toString().trim().split(" ");
      let claudePid = 0;
      const deadline = performance.now() + 5000;
      while (claudePid === 0 && performance.now() < deadline) {
        const out = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(shell)], { stdout: "pipe" }).stdout.toString().trim();
        if (out !== "") claudePid = Number(out.split("\n")[0]);
        else await Bun.sleep(10);
      }
      await execed(claudePid, "claude");
      const d = await startDaemon({ env: { TMUX_TMPDIR: tmuxDir, TMUX: "" } });
      const c = await d.client("disc-test");
      await discover(c);
      const mine = (await sessions(c)).find((s) => s.id === `pending-${claudePid}`);
      expect(mine?.tmux_pane).toBe(pane as string);
      expect(mine?.working_directory).toBe(f.repo);
      c.close();
    } finally {
      run("kill-server");
    }
  }, 30_000);
  if (tmux === null) console.warn("tmux not installed: skipping the real-tmux discovery test (apt-get install -y tmux)");
});
