// tmux panes for discovery (SESSIONS.md §12.2): parsing, the parent walk, and that a missing,
// failing or hanging tmux means "no panes" within the 1 s limit.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LIST_PANES_ARGS, listPanes, paneOf, parsePanes } from "../../src/system/tmux.ts";
import { tempDir } from "../helpers/daemon.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function script(body: string): string {
  const dir = tempDir("atmd-tmux-");
  dirs.push(dir);
  const path = join(dir, "fake-tmux");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function hasTmux(): boolean {
  return Bun.which("tmux") !== null;
}

describe("parsePanes", () => {
  test("maps pane shell pids to pane ids and ignores junk", () => {
    const m = parsePanes("%0 100\n%12 2345\n\ngarbage\n%3 x\n%4 100\n");
    expect([...m.entries()]).toEqual([
      [100, "%0"],
      [2345, "%12"],
    ]);
  });
});

describe("paneOf", () => {
  const parents = new Map<number, number>([
    [50, 40],
    [40, 30],
    [30, 20],
    [20, 1],
  ]);
  const parentOf = (p: number) => parents.get(p);

  test("the process itself can be the pane's shell", () => {
    expect(paneOf(50, new Map([[50, "%1"]]), parentOf)).toBe("%1");
  });
  test("walks up to the first pane shell", () => {
    expect(paneOf(50, new Map([[30, "%2"], [20, "%9"]]), parentOf)).toBe("%2");
  });
  test("stops at pid 1 and at unknown parents", () => {
    expect(paneOf(50, new Map([[1, "%0"]]), parentOf)).toBeNull();
    expect(paneOf(77, new Map([[30, "%2"]]), parentOf)).toBeNull();
  });
  test("examines at most 20 processes", () => {
    const chain = (p: number) => (p > 2 ? p - 1 : undefined);
    expect(paneOf(100, new Map([[81, "%5"]]), chain)).toBe("%5"); // 100..81 = 20 processes
    expect(paneOf(100, new Map([[80, "%5"]]), chain)).toBeNull();
  });
});

describe("listPanes", () => {
  test("a missing tmux binary means no panes", async () => {
    const m = await listPanes({ command: ["/nonexistent/tmux", ...LIST_PANES_ARGS] });
    expect(m.size).toBe(0);
  });

  test("a failing tmux (no server) means no panes, even with output", async () => {
    const m = await listPanes({ command: [script("echo '%1 123'; echo 'no server running' >&2; exit 1")] });
    expect(m.size).toBe(0);
  });

  test("parses a successful run", async () => {
    const m = await listPanes({ command: [script("printf '%%1 123\\n%%2 456\\n'")] });
    expect([...m.entries()]).toEqual([
      [123, "%1"],
      [456, "%2"],
    ]);
  });

  test("a hanging tmux is killed after the timeout", async () => {
    const t0 = performance.now();
    const m = await listPanes({ command: [script("echo '%1 123'; exec sleep 30")], timeoutMs: 300 });
    const ms = performance.now() - t0;
    expect(m.size).toBe(0);
    expect(ms).toBeLessThan(3000);
  });

  test("the default limit is 1 s", async () => {
    const t0 = performance.now();
    const m = await listPanes({ command: [script("exec sleep 30")] });
    const ms = performance.now() - t0;
    expect(m.size).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4000);
  });

  test("aborting the signal kills a running tmux at once", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const pending = listPanes({ command: [script("exec sleep 30")], signal: ac.signal, timeoutMs: 10_000 });
    setTimeout(() => ac.abort(), 50);
    const m = await pending;
    expect(m.size).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test.skipIf(!hasTmux())("real tmux: the pane of a process started in it", async () => {
    const name = `atmd-test-${process.pid}-${Date.now()}`;
    const tmux = (...a: string[]) => Bun.spawnSync(["tmux", "-L", name, ...a], { stdout: "pipe", stderr: "pipe" });
    const r = tmux("new-session", "-d", "-s", "t", "sleep 30");
    try {
      expect(r.exitCode).toBe(0);
      const m = await listPanes({ command: ["tmux", "-L", name, ...LIST_PANES_ARGS] });
      expect(m.size).toBe(1);
      const [pid, pane] = [...m.entries()][0] as [number, string];
      expect(pane).toMatch(/^%\d+$/);
      expect(paneOf(pid, m, () => undefined)).toBe(pane);
    } finally {
      tmux("kill-server");
    }
  });
});

if (!hasTmux()) console.warn("tmux not installed: skipping the real-tmux test (apt-get install -y tmux)");
