// The client commands (DAEMON.md §6) run for real — `bun src/main.ts list|watch|tmux-status|stats`
// — against a real daemon whose sessions are created over the socket: table content and order,
// grouping and subagent nesting, --json round trips, filters, narrow terminals, the daemon-down
// behaviour of every command, and `watch --json` surviving a daemon restart.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, ROOT, startDaemon, stopAll, tempDir, privateEnv, withTimeout, type TestDaemon } from "../helpers/daemon.ts";
import type { LineClient } from "../../src/transport/client.ts";
import { stripAnsi } from "../../src/cli/render/text.ts";

const NOT_RUNNING = "Daemon is not running (start it with 'atmd start -d').\n";

const procs = new Set<Subprocess>();
const childPids = new Set<number>();
const dirs: string[] = [];

afterEach(async () => {
  for (const p of procs) p.kill("SIGKILL");
  procs.clear();
  for (const pid of childPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  childPids.clear();
  await stopAll();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A real process whose pid a session can use (the daemon removes sessions of dead pids). */
function sleeper(): number {
  const p = Bun.spawn(["sleep", "120"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  procs.add(p);
  return p.pid;
}

/** A shell with a child: [parent pid, child pid] (for subagent correlation, SESSIONS.md §14). */
async function parentWithChild(): Promise<[number, number]> {
  const p = Bun.spawn(["sh", "-c", "sleep 120 & echo $!; wait"], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  procs.add(p);
  const reader = p.stdout.getReader();
  const { value } = await withTimeout(reader.read(), 5000, "child pid");
  reader.releaseLock();
  const child = Number(new TextDecoder().decode(value).trim());
  // Killing the shell would orphan its sleep: kill both by pid when the test ends.
  childPids.add(child);
  return [p.pid, child];
}

function statusUpdate(c: LineClient, id: string, pid: number, cwd: string, cost = 0.35): void {
  c.request("status_update", {
    data: {
      session_id: id,
      model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
      cwd,
      pid,
      cost: { total_cost_usd: cost, total_duration_ms: 135000, total_lines_added: 1, total_lines_removed: 2 },
      context_window: {
        context_window_size: 200000,
        current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 },
      },
    },
  });
}

function hook(c: LineClient, id: string, name: string, pid: number, extra: Record<string, unknown> = {}): void {
  c.request("hook_event", { data: { session_id: id, hook_event_name: name, pid, ...extra } });
}

/** Waits until the daemon has applied everything sent so far (replies come in order). */
async function sync(c: LineClient): Promise<Record<string, unknown>[]> {
  c.request("list_sessions");
  const m = await c.expect("session_list", 5000);
  return m.sessions as Record<string, unknown>[];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

async function cli(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<Run> {
  const t0 = performance.now();
  const p = Bun.spawn([BUN, MAIN, ...args], { env, cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.add(p);
  const [stdout, stderr, code] = await withTimeout(
    Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]),
    timeoutMs,
    `atmd ${args.join(" ")}`,
  );
  procs.delete(p);
  return { code, stdout, stderr, ms: performance.now() - t0 };
}

/** Incremental line reader over a child's output stream, every wait bounded. */
class Lines {
  readonly all: string[] = [];
  private buf = "";
  private wakers: (() => void)[] = [];
  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        this.buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = this.buf.indexOf("\n")) >= 0) {
          this.all.push(this.buf.slice(0, i));
          this.buf = this.buf.slice(i + 1);
        }
        for (const w of this.wakers.splice(0)) w();
      }
    })();
  }
  /** Resolves with the index of the first line at or after `from` matching `pred`. */
  async waitFor(pred: (l: string) => boolean, from = 0, ms = 15_000): Promise<number> {
    const deadline = performance.now() + ms;
    for (;;) {
      for (let i = from; i < this.all.length; i++) if (pred(this.all[i]!)) return i;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching line within ${ms} ms; saw:\n${this.all.join("\n").slice(-3000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.wakers.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

function spawnWatch(args: string[], env: Record<string, string>) {
  const p = Bun.spawn([BUN, MAIN, "watch", ...args], { env, cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.add(p);
  return { proc: p, out: new Lines(p.stdout), err: new Lines(p.stderr) };
}

const IDS = {
  alphaOld: "a1111111-0000-4000-8000-000000000001",
  beta: "b2222222-0000-4000-8000-000000000002",
  alphaNew: "a3333333-0000-4000-8000-000000000003",
  wide: "d4444444-0000-4000-8000-000000000004",
  child: "c5555555-0000-4000-8000-000000000005",
} as const;

/** A daemon with three projects' worth of sessions, one with a linked subagent. */
async function populated(): Promise<{ d: TestDaemon; c: LineClient; ids: typeof IDS }> {
  const d = await startDaemon();
  const c = await d.client("fixture");
  const ids = IDS;
  const alpha = join(d.dir, "alpha");
  statusUpdate(c, ids.alphaOld, sleeper(), alpha, 1.25);
  await sync(c);
  statusUpdate(c, ids.beta, sleeper(), join(d.dir, "beta"), 2);
  hook(c, ids.beta, "PermissionRequest", 0, { tool_name: "Bash" });
  await sync(c);
  const [parentPid, childPid] = await parentWithChild();
  statusUpdate(c, ids.alphaNew, parentPid, alpha, 0.5);
  hook(c, ids.alphaNew, "PreToolUse", parentPid, { tool_name: "Bash" });
  await sync(c);
  statusUpdate(c, ids.wide, sleeper(), join(d.dir, "日本語プロジェクト🚀"), 0);
  await sync(c);
  // A subagent running in its own process, child of alphaNew's process (SESSIONS.md §14).
  hook(c, ids.alphaNew, "SubagentStart", parentPid, { agent_id: "agent-1", agent_type: "Explore" });
  hook(c, ids.child, "PreToolUse", childPid, { tool_name: "Grep", cwd: alpha });
  await sync(c);
  return { d, c, ids };
}

/** Data rows of a table (header dropped), ANSI stripped. */
function rows(stdout: string): string[] {
  return stdout.trimEnd().split("\n").slice(1).map(stripAnsi);
}

const idOf = (row: string): string => row.slice(2).replace(/^\s*└\s*/, "").trim().split(/\s+/)[0] ?? "";

describe("atmd list", () => {
  test("table: content, grouping by project, newest first, subagent under its parent", async () => {
    const { d, ids } = await populated();
    const r = await cli(["list"], { ...d.env, COLUMNS: "160" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\x1b"); // not a TTY → no styling
    const lines = rows(r.stdout);
    expect(r.stdout.split("\n")[0]).toMatch(/ID\s+MODEL\s+CONTEXT\s+COST\s+TIME\s+ACTIVITY\s+PROJECT\s+PANE/);
    // Groups by newest session: the wide project (newest), then alpha (alphaNew + child, alphaOld),
    // then beta.
    expect(lines.map(idOf)).toEqual([ids.wide, ids.alphaNew, ids.child, ids.alphaOld, ids.beta].map((id) => id.slice(0, 8)));
    const [wide, alphaNew, child, alphaOld, beta] = lines as [string, string, string, string, string];
    expect(alphaNew).toMatch(/^> a3333333\s+Opus 4\.5\s+█+░+ 21\.5% \(43K\/200K\)\s+\$0\.50\s+2m 15s\s+Bash\s+alpha$/);
    expect(child).toMatch(/^> └ c5555555\s+\S.*· explore.*Grep\s+alpha$/);
    expect(alphaOld).toMatch(/^- a1111111 .*\$1\.25\s+2m 15s\s+idle\s+alpha$/);
    expect(beta).toMatch(/^! b2222222 .*\$2\.00\s+2m 15s\s+Permission\s+beta$/);
    expect(wide).toMatch(/^- d4444444 .*\$0\.00\s+2m 15s\s+idle\s+日本語プロジェクト🚀$/);
    for (const l of r.stdout.trimEnd().split("\n")) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(160);
  });

  test("--json round trip: the daemon's views unchanged, in table order, after the filter", async () => {
    const { d, c, ids } = await populated();
    const daemonViews = await sync(c);
    const r = await cli(["list", "--json"], d.env);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("\n")).toBe(true);
    expect(r.stdout.trimEnd().split("\n").length).toBe(1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out.map((v) => v.id)).toEqual([ids.wide, ids.alphaNew, ids.child, ids.alphaOld, ids.beta]);
    // Unchanged: same keys in the same order, same values (relative times aside, which the
    // daemon recomputes per reply).
    const strip = (v: Record<string, unknown>): string =>
      JSON.stringify({ ...v, last_activity_display: "", age_display: "" });
    const byId = new Map(daemonViews.map((v) => [v.id, strip(v)]));
    for (const v of out) expect(strip(v)).toBe(byId.get(v.id)!);
    expect(out.find((v) => v.id === ids.child)?.parent_session_id).toBe(ids.alphaNew);

    const working = JSON.parse((await cli(["list", "--json", "--status", "working"], d.env)).stdout) as { id: string }[];
    expect(working.map((v) => v.id)).toEqual([ids.alphaNew, ids.child]);
    const attention = JSON.parse((await cli(["list", "--status=attention", "--json"], d.env)).stdout) as { id: string }[];
    expect(attention.map((v) => v.id)).toEqual([ids.beta]);
  });

  test("--status filter on the table; a filtered-out parent leaves its child at the top level", async () => {
    const { d, ids } = await populated();
    const idle = await cli(["list", "--status", "idle"], { ...d.env, COLUMNS: "160" });
    expect(rows(idle.stdout).map(idOf)).toEqual([ids.wide, ids.alphaOld].map((i) => i.slice(0, 8)));
    await d.client("x").then((c) => {
      hook(c, ids.alphaNew, "Stop", 0);
      return sync(c);
    });
    const working = await cli(["list", "--status", "working"], { ...d.env, COLUMNS: "160" });
    expect(rows(working.stdout)).toEqual([expect.stringMatching(/^> c5555555 /)]);
    const bad = await cli(["list", "--status", "busy"], d.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("atmd: invalid value 'busy' for '--status' (expected working, idle or attention)\nRun 'atmd --help' for usage.\n");
    expect((await cli(["list", "--frobnicate"], d.env)).code).toBe(2);
  });

  test("narrow terminal (COLUMNS=40): every row cut to 40 cells with …", async () => {
    const { d } = await populated();
    const r = await cli(["list"], { ...d.env, COLUMNS: "40" });
    expect(r.code).toBe(0);
    const all = r.stdout.trimEnd().split("\n");
    expect(all.length).toBe(6);
    for (const l of all) {
      expect(Bun.stringWidth(l)).toBeLessThanOrEqual(40);
      expect(l.endsWith("…")).toBe(true);
    }
  });

  test("No sessions.", async () => {
    const d = await startDaemon();
    const r = await cli(["list"], d.env);
    expect(r).toMatchObject({ code: 0, stdout: "No sessions.\n", stderr: "" });
    expect((await cli(["list", "--json"], d.env)).stdout).toBe("[]\n");
  });
});

describe("atmd tmux-status and stats", () => {
  test("tmux-status: counts and cost, --tmux markup, empty with no sessions", async () => {
    const { d } = await populated();
    const plain = await cli(["tmux-status"], d.env);
    expect(plain).toMatchObject({ code: 0, stdout: "2↑ 1! $3.75\n", stderr: "" });
    const tmux = await cli(["tmux-status", "--tmux"], d.env);
    expect(tmux.stdout).toBe("#[fg=green]2↑#[default] #[fg=red,bold]1!#[default] #[fg=yellow]$3.75#[default]\n");
    const empty = await startDaemon();
    expect(await cli(["tmux-status"], empty.env)).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  test("tmux-status: garbage or a silent listener → empty output, exit 0, within budget", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const sock = join(dir, "junk.sock");
    // One listener answers garbage, then one that never answers at all.
    let mode: "garbage" | "silent" = "garbage";
    const server = Bun.listen({
      unix: sock,
      socket: {
        open(s) {
          if (mode === "garbage") s.write("this is not json\n{\"type\":\"session_list\"}\n");
        },
        data() {},
      },
    });
    try {
      const env = privateEnv(dir);
      env.ATM_SOCKET = sock;
      const g = await cli(["tmux-status"], env);
      expect(g).toMatchObject({ code: 0, stdout: "", stderr: "" });
      mode = "silent";
      const s = await cli(["tmux-status"], env);
      expect(s).toMatchObject({ code: 0, stdout: "", stderr: "" });
      // 300 ms budget plus process start-up on a loaded machine; a 5 s reply timeout would show.
      expect(s.ms).toBeLessThan(3000);
    } finally {
      server.stop(true);
    }
  });

  test("stats: key: value lines; --json is the reply line unchanged", async () => {
    const d = await startDaemon();
    const r = await cli(["stats"], d.env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toContain("protocol_version: 1.0");
    expect(lines).toContain(`socket: ${d.socket}`);
    expect(lines.some((l) => /^counters\.connections_accepted: \d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /^pid: \d+$/.test(l))).toBe(true);
    const j = await cli(["stats", "--json"], d.env);
    expect(j.stdout.split("\n").length).toBe(2);
    const reply = JSON.parse(j.stdout) as Record<string, unknown>;
    expect(reply.type).toBe("stats");
    expect(Object.keys(reply).slice(0, 4)).toEqual(["type", "version", "protocol_version", "pid"]);
    expect(reply.pid).toBe(d.proc.pid);
  });
});

describe("daemon down", () => {
  const downEnv = (): Record<string, string> => {
    const dir = tempDir();
    dirs.push(dir);
    return privateEnv(dir); // its socket does not exist
  };

  test("list, stats, watch --json, watch --lines: message on stderr, exit 1", async () => {
    const env = downEnv();
    for (const args of [["list"], ["list", "--json"], ["stats"], ["stats", "--json"], ["watch", "--json"], ["watch", "--lines"], ["watch"]]) {
      const r = await cli(args, env);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 1, stdout: "", stderr: NOT_RUNNING });
    }
  });

  test("tmux-status: nothing at all, exit 0", async () => {
    const env = downEnv();
    expect(await cli(["tmux-status"], env)).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await cli(["tmux-status", "--tmux"], env)).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  test("a stale socket file (nothing listening) counts as down", async () => {
    const env = downEnv();
    const sock = env.ATM_SOCKET!;
    const server = Bun.listen({ unix: sock, socket: { data() {} } });
    server.stop(true); // Bun removes nothing: the socket file stays, refusing connections
    const r = await cli(["list"], env);
    expect(r).toMatchObject({ code: 1, stderr: NOT_RUNNING });
  });
});

describe("atmd watch (scripts)", () => {
  test("--lines: list, updated, removed", async () => {
    const d = await startDaemon();
    const w = spawnWatch(["--lines"], d.env);
    await w.out.waitFor((l) => /^\d\d:\d\d:\d\d list 0 sessions$/.test(l));
    const c = await d.client("fixture");
    const pid = sleeper();
    statusUpdate(c, "e1111111-0000-4000-8000-00000000000e", pid, "/tmp/e");
    hook(c, "e1111111-0000-4000-8000-00000000000e", "PreToolUse", pid, { tool_name: "Bash" });
    hook(c, "e1111111-0000-4000-8000-00000000000e", "SessionEnd", pid);
    await w.out.waitFor((l) => / removed e1111111-0000-4000-8000-00000000000e$/.test(l));
    const text = w.out.all.join("\n");
    expect(text).toMatch(/\d\d:\d\d:\d\d updated e1111111 idle -\n/);
    expect(text).toMatch(/\d\d:\d\d:\d\d updated e1111111 working Bash\n/);
    w.proc.kill("SIGINT");
    expect(await withTimeout(w.proc.exited, 5000, "watch exit")).toBe(0);
  });

  test("with a session id: only that session", async () => {
    const d = await startDaemon();
    const c = await d.client("fixture");
    statusUpdate(c, "f1111111-aaaa", sleeper(), "/tmp/f");
    statusUpdate(c, "f2222222-bbbb", sleeper(), "/tmp/g");
    await sync(c);
    const w = spawnWatch(["--lines", "f2222222-bbbb"], d.env);
    await w.out.waitFor((l) => / list 1 session$/.test(l));
    hook(c, "f1111111-aaaa", "UserPromptSubmit", 0);
    hook(c, "f2222222-bbbb", "UserPromptSubmit", 0);
    await w.out.waitFor((l) => / updated f2222222 /.test(l));
    await sync(c);
    await Bun.sleep(200);
    expect(w.out.all.some((l) => l.includes("f1111111"))).toBe(false);
    w.proc.kill("SIGTERM");
    expect(await withTimeout(w.proc.exited, 5000, "watch exit")).toBe(0);
  });

  test("with the short id list shows: widened to the one session it names", async () => {
    const d = await startDaemon();
    const c = await d.client("fixture");
    statusUpdate(c, "f3333333-cccc", sleeper(), "/tmp/h");
    statusUpdate(c, "f4444444-dddd", sleeper(), "/tmp/i");
    await sync(c);
    const w = spawnWatch(["--lines", "f4444444"], d.env);
    await w.out.waitFor((l) => / list 1 session$/.test(l));
    hook(c, "f3333333-cccc", "UserPromptSubmit", 0);
    hook(c, "f4444444-dddd", "UserPromptSubmit", 0);
    await w.out.waitFor((l) => / updated f4444444 /.test(l));
    expect(w.out.all.some((l) => l.includes("f3333333"))).toBe(false);
    w.proc.kill("SIGTERM");
    expect(await withTimeout(w.proc.exited, 5000, "watch exit")).toBe(0);
  });

  test("--json survives a daemon restart: reconnects, resubscribes, keeps streaming", async () => {
    const d1 = await startDaemon();
    const w = spawnWatch(["--json"], d1.env);
    const first = await w.out.waitFor((l) => l.includes('"type":"session_list"'));
    expect(JSON.parse(w.out.all[first - 1]!)).toMatchObject({ type: "connected", client_id: "atmd-cli" });
    const c1 = await d1.client("fixture");
    statusUpdate(c1, "91111111-0000", sleeper(), "/tmp/r1");
    const upd = await w.out.waitFor((l) => l.includes('"type":"session_updated"') && l.includes("91111111-0000"), first);
    // Printed unchanged: exactly one JSON object per line, as the daemon wrote it.
    expect(JSON.parse(w.out.all[upd]!).session.id).toBe("91111111-0000");
    c1.close();

    await d1.stop();
    await w.err.waitFor((l) => l === "Daemon disconnected; reconnecting.");
    expect(w.proc.exitCode).toBeNull();

    // Same socket and state directory: the "same" daemon coming back.
    const d2 = await startDaemon({ dir: d1.dir });
    const relist = await w.out.waitFor((l) => l.includes('"type":"session_list"'), upd + 1, 20_000);
    expect(JSON.parse(w.out.all[relist]!).sessions).toEqual([]);
    const c2 = await d2.client("fixture");
    statusUpdate(c2, "92222222-0000", sleeper(), "/tmp/r2");
    await w.out.waitFor((l) => l.includes('"type":"session_updated"') && l.includes("92222222-0000"), relist);
    expect(w.err.all.filter((l) => l.startsWith("Daemon disconnected")).length).toBe(1);
    w.proc.kill("SIGINT");
    expect(await withTimeout(w.proc.exited, 5000, "watch exit")).toBe(0);
    rmSync(d1.dir, { recursive: true, force: true });
  }, 60_000);
});
