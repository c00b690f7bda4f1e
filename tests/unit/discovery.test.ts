// The discovery scan (SESSIONS.md §12) against real processes: fake `claude` binaries (copies of
// sleep and sh) started in a temp git repo, false positives that only mention claude in later
// arguments, nested Claude processes, and the exclusion of the scanner's own children.
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { scanClaudeProcesses } from "../../src/system/discovery.ts";
import { LIST_PANES_ARGS } from "../../src/system/tmux.ts";
import { claudeFixture, execed, killFakes, spawnFake } from "../helpers/fake-claude.ts";

const linux = process.platform === "linux";

afterEach(async () => {
  await killFakes();
});

/** Children of `pid` per /proc (for processes started through a shell). */
function childrenOf(pid: number): number[] {
  const out = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(pid)], { stdout: "pipe" }).stdout.toString();
  return out.split("\n").filter((l) => l.trim() !== "").map(Number);
}

async function waitChild(pid: number): Promise<number> {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const c = childrenOf(pid);
    if (c.length > 0) return c[0] as number;
    await Bun.sleep(10);
  }
  throw new Error(`no child of ${pid}`);
}

// Our children are excluded by default (they are the daemon's in production), so the tests scan
// as if they were someone else.
const asOther = { selfPid: -1 };

describe.skipIf(!linux)("scanClaudeProcesses (Linux /proc)", () => {
  test("finds a fake claude with its cwd, in ascending pid order, no pane without tmux", async () => {
    const f = claudeFixture("atmd-disc-");
    const a = spawnFake([f.claude, "30"], f.repo);
    const b = spawnFake([f.claude, "31"], f.dir);
    await execed(a.pid, "claude");
    await execed(b.pid, "claude");
    const found = await scanClaudeProcesses({ ...asOther, tmuxCommand: ["/nonexistent/tmux"] });
    const ours = found.filter((d) => d.pid === a.pid || d.pid === b.pid);
    expect(ours).toEqual(
      [
        { pid: a.pid, cwd: f.repo, tmuxPane: null },
        { pid: b.pid, cwd: f.dir, tmuxPane: null },
      ].sort((x, y) => x.pid - y.pid),
    );
    const pids = found.map((d) => d.pid);
    expect(pids).toEqual([...pids].sort((x, y) => x - y));
  });

  test("the scanner's own children are never candidates", async () => {
    const f = claudeFixture("atmd-disc-");
    const a = spawnFake([f.claude, "30"], f.repo);
    await execed(a.pid, "claude");
    const found = await scanClaudeProcesses({ tmuxCommand: ["/nonexistent/tmux"] });
    expect(found.some((d) => d.pid === a.pid)).toBe(false);
  });

  test("an executable under claude/versions/ counts", async () => {
    const f = claudeFixture("atmd-disc-");
    const dir = join(f.dir, "share", "claude", "versions");
    mkdirSync(dir, { recursive: true });
    const exe = join(dir, "2.0.76");
    copyFileSync(f.claude, exe);
    const a = spawnFake([exe, "30"], f.repo);
    await execed(a.pid, "2.0.76");
    const found = await scanClaudeProcesses(asOther);
    expect(found.filter((d) => d.pid === a.pid)).toEqual([{ pid: a.pid, cwd: f.repo, tmuxPane: null }]);
  });

  test("false positives: claude only in later arguments, or in a longer name", async () => {
    const f = claudeFixture("atmd-disc-");
    const helper = join(f.dir, "bin", "claude-helper");
    copyFileSync(f.claude, helper);
    const s1 = spawnFake(["sh", "-c", "sleep 30; : claude"], f.repo);
    const s2 = spawnFake(["sh", "-c", "sleep 30; :", join(f.dir, "bin", "claude")], f.repo);
    const s3 = spawnFake([helper, "30"], f.repo);
    const s1child = await waitChild(s1.pid);
    const s2child = await waitChild(s2.pid);
    await execed(s3.pid, "claude-helper");
    const found = await scanClaudeProcesses(asOther);
    const suspects = new Set([s1.pid, s2.pid, s3.pid, s1child, s2child]);
    expect(found.filter((d) => suspects.has(d.pid))).toEqual([]);
  });

  test("outermost only: a claude started by a claude yields one process", async () => {
    const f = claudeFixture("atmd-disc-");
    const outer = join(f.dir, "outer", "claude");
    mkdirSync(join(f.dir, "outer"));
    copyFileSync(Bun.which("sh") ?? "/bin/sh", outer);
    // `; :` keeps the shell from exec-ing its last command, so both processes exist.
    const o = spawnFake([outer, "-c", `${f.claude} 30; :`], f.repo);
    const inner = await waitChild(o.pid);
    await execed(inner, "claude");
    const found = await scanClaudeProcesses(asOther);
    expect(found.filter((d) => d.pid === o.pid || d.pid === inner)).toEqual([{ pid: o.pid, cwd: f.repo, tmuxPane: null }]);
  });

  test("an aborted scan finds nothing", async () => {
    const f = claudeFixture("atmd-disc-");
    const a = spawnFake([f.claude, "30"], f.repo);
    await execed(a.pid, "claude");
    const ac = new AbortController();
    ac.abort();
    expect(await scanClaudeProcesses({ ...asOther, signal: ac.signal })).toEqual([]);
  });

  test("abort during a hanging tmux ends the scan at once", async () => {
    const f = claudeFixture("atmd-disc-");
    const a = spawnFake([f.claude, "30"], f.repo);
    await execed(a.pid, "claude");
    const ac = new AbortController();
    const t0 = performance.now();
    const p = scanClaudeProcesses({ ...asOther, signal: ac.signal, tmuxCommand: ["sleep", "30"] });
    setTimeout(() => ac.abort(), 100);
    expect(await p).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(900); // well before tmux's own 1 s limit
  });

  test("a hanging tmux costs at most about 1 s and the process is still found", async () => {
    const f = claudeFixture("atmd-disc-");
    const a = spawnFake([f.claude, "30"], f.repo);
    await execed(a.pid, "claude");
    const t0 = performance.now();
    const found = await scanClaudeProcesses({ ...asOther, tmuxCommand: ["sleep", "30"] });
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(found.filter((d) => d.pid === a.pid)).toEqual([{ pid: a.pid, cwd: f.repo, tmuxPane: null }]);
  });

  const tmux = Bun.which("tmux");
  test.skipIf(tmux === null)("attaches the tmux pane the claude runs in", async () => {
    const f = claudeFixture("atmd-disc-");
    const name = `atmd-disc-${process.pid}-${Date.now()}`;
    const run = (...a: string[]) => Bun.spawnSync(["tmux", "-L", name, ...a], { stdout: "pipe", stderr: "pipe" });
    // A shell in the pane starts claude as its child: the walk goes claude → pane shell.
    const r = run("new-session", "-d", "-s", "t", "-c", f.repo, `sh -c '${f.claude} 30; :'`);
    try {
      expect(r.exitCode).toBe(0);
      const panes = run("list-panes", "-a", "-F", "#{pane_id} #{pane_pid}").stdout.toString().trim().split(" ");
      const shell = Number(panes[1]);
      const claudePid = await waitChild(shell);
      await execed(claudePid, "claude");
      const found = await scanClaudeProcesses({ ...asOther, tmuxCommand: ["tmux", "-L", name, ...LIST_PANES_ARGS] });
      expect(found.filter((d) => d.pid === claudePid)).toEqual([{ pid: claudePid, cwd: f.repo, tmuxPane: panes[0] as string }]);
    } finally {
      run("kill-server");
    }
  });
  if (tmux === null) console.warn("tmux not installed: skipping the tmux pane discovery test (apt-get install -y tmux)");
});
