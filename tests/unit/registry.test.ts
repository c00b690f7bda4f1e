// Registry keys and events (SESSIONS.md §3, §4, §6.5, §6.6, §12.3, §13, §14): the resolution
// table row by row, rename / move / duplicate rules, the cap on every creation path, upkeep, and
// hostile input that must leave the registry exactly as it was.
import { describe, expect, test } from "bun:test";
import { Registry } from "../../src/registry/registry.ts";
import { FakeSystem } from "../../src/registry/testing.ts";
import type { RegistryEvent, SessionView } from "../../src/registry/types.ts";

const MODEL = { id: "claude-opus-4-6" };

function setup(max?: number, ttl?: number) {
  const sys = new FakeSystem();
  for (const pid of [10, 11, 12, 20, 21, 30]) sys.spawn(pid);
  return { sys, r: new Registry({ system: sys, maxSessions: max, unverifiedTtlMs: ttl }) };
}

/** Compact event log: `+id` for session_updated, `-id` for session_removed. */
function log(events: RegistryEvent[]): string[] {
  return events.map((e) => (e.type === "session_updated" ? `+${e.session.id}` : `-${e.session_id}`));
}

const status = (r: Registry, sid: string, pid: number | undefined, extra: Record<string, unknown> = {}, now = 1000) =>
  r.statusUpdate({ session_id: sid, pid, ...extra }, now);
const hook = (r: Registry, sid: string, pid: number | undefined, name: string, extra: Record<string, unknown> = {}, now = 1000) =>
  r.hookEvent({ session_id: sid, pid, hook_event_name: name, ...extra }, now);

describe("§3.2 resolving a message to a session", () => {
  test("row 1: no usable pid, A exists -> update A (status and hook; pid 0 = no pid)", () => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL });
    expect(log(status(r, "A", undefined).events)).toEqual(["+A"]);
    expect(log(status(r, "A", 0).events)).toEqual(["+A"]);
    expect(log(hook(r, "A", undefined, "Stop").events)).toEqual(["+A"]);
    expect(log(hook(r, "A", 0, "PreToolUse", { tool_name: "Bash" }).events)).toEqual(["+A"]);
    expect(r.view("A", 0)?.activity_detail).toBe("Bash");
    expect(r.hasPid(10)).toBe(true);
  });

  test("row 2: no usable pid, no A -> ignored without reply", () => {
    const { r } = setup();
    for (const res of [status(r, "A", undefined, { model: MODEL }), status(r, "A", 0, { model: MODEL }), hook(r, "A", undefined, "Stop"), hook(r, "A", 0, "Stop")]) {
      expect(res).toEqual({ events: [] });
    }
    expect(r.size).toBe(0);
  });

  test("row 3: B.id = S -> update B", () => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL });
    expect(log(status(r, "A", 10).events)).toEqual(["+A"]);
    expect(log(hook(r, "A", 10, "Stop").events)).toEqual(["+A"]);
  });

  test("row 4, status line: rename keeps everything, removed(old) then updated(new)", () => {
    const { r } = setup();
    status(r, "old", 10, { model: MODEL, cost: { total_cost_usd: 1, total_duration_ms: 5 } }, 1000);
    hook(r, "old", 10, "UserPromptSubmit", { prompt: "hello" }, 1500);
    const before = r.view("old", 2000) as SessionView;
    const res = status(r, "new", 10, {}, 2000);
    expect(log(res.events)).toEqual(["-old", "+new"]);
    const after = r.view("new", 2000) as SessionView;
    expect(r.view("old", 2000)).toBeUndefined();
    expect({ ...after, id: "x", id_short: "x", last_activity: "", last_activity_display: "" })
      .toEqual({ ...before, id: "x", id_short: "x", last_activity: "", last_activity_display: "" });
    expect(r.size).toBe(1);
    expect(r.counters).toEqual({ sessionsCreated: 1, sessionsRemoved: 0 });
  });

  test("row 4, hook: a pending session is renamed", () => {
    const { r } = setup();
    r.discovered([{ pid: 10, cwd: "/w", tmuxPane: "%1" }], 0);
    expect(log(hook(r, "real", 10, "SessionStart").events)).toEqual(["-pending-10", "+real"]);
    expect(r.view("real", 0)).toMatchObject({ working_directory: "/w", tmux_pane: "%1", id_short: "real" });
  });

  test("row 4, hook: a real session is NOT renamed; the event applies to it", () => {
    const { r } = setup();
    status(r, "outer", 10, { model: MODEL });
    expect(log(hook(r, "nested", 10, "PreToolUse", { tool_name: "Bash" }).events)).toEqual(["+outer"]);
    expect(r.view("outer", 0)?.activity_detail).toBe("Bash");
    expect(r.view("nested", 0)).toBeUndefined();
  });

  test("row 5: known id under a new pid moves (never duplicates); pane replaced or cleared", () => {
    const { r, sys } = setup();
    status(r, "A", 10, { model: MODEL, tmux_pane: "%1" });
    expect(log(status(r, "A", 11, { tmux_pane: "%2" }).events)).toEqual(["+A"]);
    expect([r.hasPid(10), r.hasPid(11), r.size, r.view("A", 0)?.tmux_pane]).toEqual([false, true, 1, "%2"]);
    expect(log(hook(r, "A", 12, "Stop").events)).toEqual(["+A"]);
    expect([r.hasPid(11), r.hasPid(12), r.view("A", 0)?.tmux_pane]).toEqual([false, true, null]);
    // moved to an unverifiable pid: re-verified, so it now expires instead of being pid-checked
    status(r, "A", 999, {}, 2000);
    sys.kill(12);
    expect(r.size).toBe(1);
  });

  test("row 6: A elsewhere and B at P -> B removed, A moved", () => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL });
    status(r, "B", 11, { model: MODEL });
    expect(log(status(r, "A", 11).events)).toEqual(["-B", "+A"]);
    expect(r.list(0).map((v) => v.id)).toEqual(["A"]);
    status(r, "C", 10, { model: MODEL });
    expect(log(hook(r, "C", 11, "Stop").events)).toEqual(["-A", "+C"]);
    expect(r.counters).toEqual({ sessionsCreated: 3, sessionsRemoved: 2 });
  });

  test("row 7: create; a status line without model is ignored", () => {
    const { r } = setup();
    expect(status(r, "A", 10)).toEqual({ events: [] });
    expect(log(status(r, "A", 10, { model: MODEL }).events)).toEqual(["+A"]);
    expect(log(hook(r, "B", 11, "Stop").events)).toEqual(["+B"]);
    expect(r.size).toBe(2);
  });

  test("invariant: never two sessions with one id or one pid", () => {
    const { r } = setup();
    const ops: [string, number][] = [["A", 10], ["B", 10], ["A", 11], ["B", 11], ["C", 10], ["A", 10], ["C", 12], ["B", 12]];
    for (const [sid, pid] of ops) {
      status(r, sid, pid, { model: MODEL });
      hook(r, sid, pid, "Stop");
      const list = r.list(0);
      expect(new Set(list.map((v) => v.id)).size).toBe(list.length);
      expect(r.size).toBe(list.length);
    }
  });

  test("list is ordered by started_at, then id", () => {
    const { r } = setup();
    status(r, "b", 10, { model: MODEL }, 5);
    status(r, "a", 11, { model: MODEL }, 5);
    status(r, "0", 12, { model: MODEL }, 7);
    status(r, "z", 20, { model: MODEL }, 1);
    expect(r.list(10).map((v) => v.id)).toEqual(["z", "a", "b", "0"]);
  });
});

describe("§4 the cap on every creation path", () => {
  const FULL_TEXT = "Registry error: registry is full (max: 2 sessions)";
  function full() {
    const { r, sys } = setup(2);
    status(r, "A", 10, { model: MODEL });
    hook(r, "B", 11, "Stop");
    return { r, sys };
  }

  test("status line creation", () => {
    const { r } = full();
    const before = JSON.stringify(r.list(0));
    expect(status(r, "C", 12, { model: MODEL })).toEqual({ events: [], error: { code: "registry_full", message: FULL_TEXT } });
    expect(JSON.stringify(r.list(0))).toBe(before);
  });

  test("hook creation", () => {
    const { r } = full();
    expect(hook(r, "C", 12, "UserPromptSubmit", { prompt: "x" })).toEqual({ events: [], error: { code: "registry_full", message: FULL_TEXT } });
    expect(r.size).toBe(2);
  });

  test("discovery counts failures", () => {
    const { r } = full();
    expect(r.discovered([{ pid: 12, cwd: "/", tmuxPane: null }, { pid: 20, cwd: "/", tmuxPane: null }], 0)).toEqual({ events: [], discovered: 0, failed: 2 });
  });

  test("updates, renames and moves at the cap are fine", () => {
    const { r } = full();
    expect(status(r, "A", 10).error).toBeUndefined();
    expect(log(status(r, "A2", 10).events)).toEqual(["-A", "+A2"]);
    expect(log(hook(r, "B", 12, "Stop").events)).toEqual(["+B"]);
    expect(r.size).toBe(2);
  });

  test("the default cap is 100 and the text names it", () => {
    const sys = new FakeSystem();
    const r = new Registry({ system: sys });
    for (let i = 1; i <= 100; i++) expect(status(r, `s${i}`, i, { model: MODEL }).error).toBeUndefined();
    expect(status(r, "s101", 101, { model: MODEL }).error?.message).toBe("Registry error: registry is full (max: 100 sessions)");
    expect(r.maxSessions).toBe(100);
  });
});

describe("§6.5 unknown hook events", () => {
  test("accepted silently, refresh last_activity, never create", () => {
    const { r } = setup();
    expect(hook(r, "A", 10, "MessageDisplay")).toEqual({ events: [], unknownHook: true });
    expect(r.size).toBe(0);
    status(r, "A", 10, { model: MODEL }, 1000);
    expect(hook(r, "A", 99, "TaskCreated", {}, 5000)).toEqual({ events: [], unknownHook: true });
    expect(r.view("A", 5000)).toMatchObject({ last_activity_display: "0s ago", age_display: "4s ago" });
    expect(r.hasPid(10)).toBe(true);
    expect(hook(r, "A", 10, "sessionend").unknownHook).toBe(true);
    expect(r.size).toBe(1);
  });
});

describe("§6.6 SessionEnd", () => {
  test("removes the session with the id, wherever its pid", () => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL });
    expect(log(hook(r, "A", 11, "SessionEnd").events)).toEqual(["-A"]);
    expect(r.size).toBe(0);
  });
  test("falls back to a pending session at the pid", () => {
    const { r } = setup();
    r.discovered([{ pid: 10, cwd: "/", tmuxPane: null }], 0);
    expect(log(hook(r, "X", 10, "SessionEnd").events)).toEqual(["-pending-10"]);
  });
  test("never removes a different real session at the pid, never creates", () => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL });
    expect(hook(r, "X", 10, "SessionEnd")).toEqual({ events: [] });
    expect(hook(r, "Y", 11, "SessionEnd")).toEqual({ events: [] });
    expect(hook(r, "A", undefined, "SessionEnd").events).toEqual([{ type: "session_removed", session_id: "A" }]);
    expect(r.counters).toEqual({ sessionsCreated: 1, sessionsRemoved: 1 });
  });
});

describe("§12.3 discovery", () => {
  test("ascending pid order, tracked pids skipped, pending ids, cwd/pane/git", () => {
    const { r, sys } = setup();
    sys.git.set("/repo", { projectRoot: "/repo", worktreePath: "/repo", worktreeBranch: "main" });
    status(r, "A", 11, { model: MODEL });
    const res = r.discovered([
      { pid: 20, cwd: "/x", tmuxPane: null }, { pid: 11, cwd: "/y", tmuxPane: "%3" }, { pid: 10, cwd: "/repo", tmuxPane: "%1" },
    ], 500);
    expect(log(res.events)).toEqual(["+pending-10", "+pending-20"]);
    expect([res.discovered, res.failed]).toEqual([2, 0]);
    expect(r.view("A", 500)?.id).toBe("A");
    const v = r.view("pending-10", 500) as SessionView;
    expect(v).toMatchObject({ id_short: "pending-", model: "Unknown", status: "idle", tmux_pane: "%1", project_root: "/repo", worktree_branch: "main" });
    expect(v.started_at).toBe(v.last_activity);
    expect(r.discovered([{ pid: 10, cwd: "/x", tmuxPane: null }], 600)).toEqual({ events: [], discovered: 0, failed: 0 });
  });

  test("a client-chosen pending id does not break the id index", () => {
    const { r } = setup();
    status(r, "pending-10", 11, { model: MODEL });
    expect(r.discovered([{ pid: 10, cwd: "/", tmuxPane: null }], 0).discovered).toBe(0);
    expect(r.size).toBe(1);
  });
});

describe("§14 subagent correlation", () => {
  function family() {
    const sys = new FakeSystem().spawn(100).spawn(150, 100).spawn(200, 150).spawn(300, 1);
    const r = new Registry({ system: sys });
    status(r, "P", 100, { model: MODEL }, 0);
    return { sys, r };
  }

  test("SubagentStart then a child process session: linked, parent then child published", () => {
    const { r } = family();
    hook(r, "P", 100, "SubagentStart", { agent_id: "a", agent_type: "Explore" }, 1000);
    expect(log(hook(r, "C", 200, "SessionStart", {}, 2000).events)).toEqual(["+C", "+P", "+C"]);
    expect(r.view("P", 0)?.child_session_ids).toEqual(["C"]);
    expect(r.view("C", 0)).toMatchObject({ parent_session_id: "P", agent_type: "explore" });
    // the entry was consumed
    expect(log(hook(r, "D", 150, "SessionStart", {}, 2000).events)).toEqual(["+D"]);
  });

  test("discovery correlates too; parent pid falls back to the session's pid", () => {
    const { r } = family();
    hook(r, "P", undefined, "SubagentStart", { agent_id: "" }, 1000);
    expect(log(r.discovered([{ pid: 200, cwd: "/", tmuxPane: null }], 2000).events)).toEqual(["+pending-200", "+P", "+pending-200"]);
    expect(log(hook(r, "C", 200, "Stop", {}, 3000).events)).toEqual(["-pending-200", "+C", "+P"]);
    expect(r.view("P", 0)?.child_session_ids).toEqual(["C"]);
    expect(r.view("C", 0)?.parent_session_id).toBe("P");
  });

  test("never self-linked: a session created by its own SubagentStart", () => {
    const { r } = family();
    expect(log(hook(r, "S", 300, "SubagentStart", { agent_id: "x" }).events)).toEqual(["+S"]);
    expect(r.view("S", 0)?.parent_session_id).toBeUndefined();
    expect(r.view("S", 0)?.child_session_ids).toBeUndefined();
  });

  test("no link: not a descendant, expired entry, stopped agent, reused parent pid, status-line creation", () => {
    const cases: [string, (f: ReturnType<typeof family>) => void, number][] = [
      ["not a descendant", () => {}, 300],
      ["expired", () => {}, 200],
      ["stopped", (f) => hook(f.r, "P", 100, "SubagentStop", { agent_id: "a" }, 1500), 200],
      ["reused", (f) => f.sys.spawn(100, 1, 999), 200],
    ];
    for (const [name, prep, pid] of cases) {
      const f = family();
      hook(f.r, "P", 100, "SubagentStart", { agent_id: "a" }, 1000);
      prep(f);
      const when = name === "expired" ? 31_000 : 2000;
      expect(log(hook(f.r, "C", pid, "SessionStart", {}, when).events)).toEqual(["+C"]);
    }
    const f = family();
    hook(f.r, "P", 100, "SubagentStart", { agent_id: "a" }, 1000);
    expect(log(status(f.r, "C", 200, { model: MODEL }, 2000).events)).toEqual(["+C"]);
  });

  test("removal cleans links both ways and publishes the touched sessions", () => {
    const { r } = family();
    hook(r, "P", 100, "SubagentStart", { agent_id: "a" }, 1000);
    hook(r, "C", 200, "SessionStart", {}, 2000);
    expect(log(hook(r, "C", 200, "SessionEnd", {}, 3000).events)).toEqual(["-C", "+P"]);
    expect(r.view("P", 0)?.child_session_ids).toBeUndefined();
    const f = family();
    hook(f.r, "P", 100, "SubagentStart", { agent_id: "a" }, 1000);
    hook(f.r, "C", 200, "SessionStart", {}, 2000);
    expect(log(hook(f.r, "P", 100, "SessionEnd", {}, 3000).events)).toEqual(["-P", "+C"]);
    expect(f.r.view("C", 0)?.parent_session_id).toBeUndefined();
  });

  test("rename rewrites links after the rename pair", () => {
    const { r } = family();
    hook(r, "P", 100, "SubagentStart", { agent_id: "a" }, 1000);
    hook(r, "C", 200, "SessionStart", {}, 2000);
    expect(log(status(r, "P2", 100, {}, 3000).events)).toEqual(["-P", "+P2", "+C"]);
    expect(r.view("C", 0)?.parent_session_id).toBe("P2");
  });
});

describe("§13 liveness and cleanup", () => {
  test("dead, reused and zombie pids are removed; live ones stay", async () => {
    const { r, sys } = setup();
    for (const [sid, pid] of [["dead", 10], ["reused", 11], ["zombie", 12], ["alive", 20]] as const) status(r, sid, pid, { model: MODEL });
    sys.kill(10);
    sys.spawn(11, 1, 12345);
    (sys.procs.get(12) as { zombie?: boolean }).zombie = true;
    const events = await r.cleanup(() => 2000);
    expect(log(events).sort()).toEqual(["-dead", "-reused", "-zombie"]);
    expect(r.list(0).map((v) => v.id)).toEqual(["alive"]);
    expect(await r.cleanup(() => 4000)).toEqual([]);
  });

  test("unverified sessions expire after the TTL without messages; any message postpones it", async () => {
    const { r } = setup(undefined, 60_000);
    status(r, "ghost", 4_000_000_000, { model: MODEL }, 0);
    hook(r, "ghost", undefined, "SomethingNew", {}, 30_000);
    expect(await r.cleanup(() => 89_999)).toEqual([]);
    expect(log(await r.cleanup(() => 90_000))).toEqual(["-ghost"]);
  });

  test("a session that moves while the check runs is not removed", async () => {
    const { r, sys } = setup();
    status(r, "A", 10, { model: MODEL });
    sys.kill(10);
    const pending = r.cleanup(() => 2000);
    status(r, "A", 11, {}, 1500);
    expect(await pending).toEqual([]);
    expect(r.view("A", 0)).toBeDefined();
  });

  test("pending subagent entries older than 30 s are dropped by the tick", async () => {
    const sys = new FakeSystem().spawn(100).spawn(200, 100);
    const r = new Registry({ system: sys });
    status(r, "P", 100, { model: MODEL }, 0);
    hook(r, "P", 100, "SubagentStart", { agent_id: "a" }, 0);
    await r.cleanup(() => 30_000);
    expect(log(hook(r, "C", 200, "SessionStart", {}, 1000).events)).toEqual(["+C"]);
  });
});

describe("§11 git refresh", () => {
  test("publishes only sessions whose git info changed, without touching last_activity", async () => {
    const { r, sys } = setup();
    sys.git.set("/repo", { projectRoot: "/repo", worktreePath: "/repo", worktreeBranch: "main" });
    status(r, "A", 10, { model: MODEL, cwd: "/repo" }, 0);
    status(r, "B", 11, { model: MODEL, cwd: "/other" }, 0);
    hook(r, "C", 12, "Stop", {}, 0);
    expect(await r.refreshGit(() => 5000)).toEqual([]);
    sys.git.set("/repo", { projectRoot: "/repo", worktreePath: "/repo", worktreeBranch: "feature/login" });
    const events = await r.refreshGit(() => 10_000);
    expect(log(events)).toEqual(["+A"]);
    const v = r.view("A", 10_000) as SessionView;
    expect(v.worktree_branch).toBe("feature/login");
    expect(v.last_activity_display).toBe("10s ago");
    sys.git.delete("/repo");
    await r.refreshGit(() => 11_000);
    expect(Object.hasOwn(r.view("A", 0) as object, "project_root")).toBe(false);
  });

  test("a repository created after the session shows up with the next status line a second later", () => {
    const { r, sys } = setup();
    status(r, "A", 10, { model: MODEL, cwd: "/late" }, 0);
    expect(Object.hasOwn(r.view("A", 0) as object, "project_root")).toBe(false);
    sys.git.set("/late", { projectRoot: "/late", worktreePath: "/late", worktreeBranch: "main" });
    status(r, "A", 10, {}, 500); // within the reuse window: the earlier lookup stands
    expect(Object.hasOwn(r.view("A", 500) as object, "project_root")).toBe(false);
    status(r, "A", 10, {}, 1500); // project_root still unknown, lookup older than 1 s: read again
    expect(r.view("A", 1500)?.project_root).toBe("/late");
  });

  test("status lines reuse the cached lookup instead of hitting the file system each time", () => {
    const { r, sys } = setup();
    status(r, "A", 10, { model: MODEL, cwd: "/nogit" }, 0);
    const calls = sys.gitCalls;
    for (let i = 0; i < 50; i++) status(r, "A", 10, {}, i);
    expect(sys.gitCalls).toBe(calls);
  });
});

describe("hostile input: at most one error, list() unchanged", () => {
  const big = "x".repeat(500 * 1024);
  const statusBad: [string, unknown, string | null][] = [
    ["null data", null, "Parse error: Missing session_id"],
    ["array data", [1], "Parse error: Missing session_id"],
    ["string data", "s", "Parse error: Missing session_id"],
    ["number session_id", { session_id: 1 }, "Parse error: Missing session_id"],
    ["null session_id", { session_id: null, pid: 10 }, "Parse error: Missing session_id"],
    ["pid -1", { session_id: "A", pid: -1 }, "Registry error: parse error: invalid value: integer `-1`, expected u32"],
    ["pid 2^32", { session_id: "A", pid: 4294967296 }, "Registry error: parse error: invalid value: integer `4294967296`, expected u32"],
    ["pid 1.5", { session_id: "A", pid: 1.5 }, "Registry error: parse error: invalid type: floating point `1.5`, expected u32"],
    ["pid string", { session_id: "A", pid: "10" }, 'Registry error: parse error: invalid type: string "10", expected u32'],
    ["model without id", { session_id: "A", pid: 10, model: {} }, "Registry error: parse error: missing field `id`"],
    ["model id null", { session_id: "A", pid: 10, model: { id: null } }, "Registry error: parse error: missing field `id`"],
    ["model not an object", { session_id: "A", pid: 10, model: "opus" }, null],
    ["cost without total_cost_usd", { session_id: "A", pid: 10, model: MODEL, cost: { total_duration_ms: 1 } }, "Registry error: parse error: missing field `total_cost_usd`"],
    ["cost string", { session_id: "A", pid: 10, model: MODEL, cost: { total_cost_usd: "x", total_duration_ms: 1 } }, 'Registry error: parse error: invalid type: string "x", expected f64'],
    ["duration missing", { session_id: "A", pid: 10, model: MODEL, cost: { total_cost_usd: 1 } }, "Registry error: parse error: missing field `total_duration_ms`"],
    ["negative lines", { session_id: "A", pid: 10, model: MODEL, cost: { total_cost_usd: 1, total_duration_ms: 1, total_lines_added: -5 } }, null],
    ["huge tokens", { session_id: "A", pid: 10, model: MODEL, context_window: { total_input_tokens: 1e300 } }, null],
    ["window over u32", { session_id: "A", pid: 10, model: MODEL, context_window: { context_window_size: 4294967296 } }, null],
    ["current_usage array", { session_id: "A", pid: 10, model: MODEL, context_window: { current_usage: [] } }, null],
    ["cwd number", { session_id: "A", pid: 10, model: MODEL, cwd: 5 }, null],
    ["tmux_pane object", { session_id: "A", pid: 10, model: MODEL, tmux_pane: {} }, null],
    ["version bool", { session_id: "A", pid: 10, model: MODEL, version: true }, null],
    ["500 KiB string in a number field", { session_id: "A", pid: 10, model: MODEL, cost: { total_cost_usd: big, total_duration_ms: 1 } }, null],
  ];

  test.each(statusBad)("status_update: %s", (_n, data, message) => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL, cwd: "/w" }, 0);
    hook(r, "A", 10, "Stop", {}, 0);
    const before = JSON.stringify(r.list(100));
    const res = r.statusUpdate(data, 50);
    expect(res.events).toEqual([]);
    expect(res.error?.code).toBe("parse_error");
    if (message !== null) expect(res.error?.message).toBe(message);
    expect((res.error?.message ?? "").length).toBeLessThan(200);
    expect(JSON.stringify(r.list(100))).toBe(before);
  });

  const hookBad: [string, unknown, string | null][] = [
    ["null data", null, null],
    ["array data", [], null],
    ["missing hook_event_name", { session_id: "A", pid: 10 }, "Parse error: missing field `hook_event_name`"],
    ["missing session_id", { hook_event_name: "Stop", pid: 10 }, "Parse error: missing field `session_id`"],
    ["event name number", { session_id: "A", hook_event_name: 3 }, null],
    ["pid -1", { session_id: "A", hook_event_name: "Stop", pid: -1 }, "Parse error: invalid value: integer `-1`, expected u32"],
    ["pid NaN-ish string", { session_id: "A", hook_event_name: "Stop", pid: "NaN" }, null],
    ["tool_name number", { session_id: "A", hook_event_name: "PreToolUse", pid: 10, tool_name: 1 }, null],
    ["prompt object", { session_id: "A", hook_event_name: "UserPromptSubmit", pid: 10, prompt: {} }, null],
    ["agent_id array", { session_id: "A", hook_event_name: "SubagentStart", pid: 10, agent_id: [] }, null],
    ["notification_type bool", { session_id: "A", hook_event_name: "Notification", pid: 10, notification_type: false }, null],
    ["cwd number on create", { session_id: "Z", hook_event_name: "Stop", pid: 11, cwd: 1 }, null],
  ];

  test.each(hookBad)("hook_event: %s", (_n, data, message) => {
    const { r } = setup();
    status(r, "A", 10, { model: MODEL, cwd: "/w" }, 0);
    const before = JSON.stringify(r.list(100));
    const res = r.hookEvent(data, 50);
    expect(res.events).toEqual([]);
    expect(res.error?.code).toBe("parse_error");
    expect(res.error?.message.startsWith("Parse error: ")).toBe(true);
    if (message !== null) expect(res.error?.message).toBe(message);
    expect(JSON.stringify(r.list(100))).toBe(before);
  });

  test("odd but valid values never produce NaN, Infinity or a broken view", () => {
    const { r } = setup();
    const weird = [
      { session_id: "", pid: 10, model: { id: "" }, cost: { total_cost_usd: -1e308, total_duration_ms: 9007199254740991, total_lines_added: 9007199254740991 } },
      { session_id: "😀".repeat(9), pid: 11, model: { id: "[1m]" }, context_window: { context_window_size: 0, current_usage: { input_tokens: 9007199254740991, cache_read_input_tokens: 9007199254740991 } } },
      { session_id: "\ud800x", pid: 4294967295, model: { id: "claude-" }, cwd: "é".repeat(10_000), tmux_pane: big },
      { session_id: "e", pid: 12, model: { id: "x", display_name: big }, cost: { total_cost_usd: 1e-300, total_duration_ms: 1e3 } },
    ];
    for (const w of weird) expect(r.statusUpdate(w, 1e12).error).toBeUndefined();
    expect(r.size).toBe(4);
    for (const v of r.list(1e12 + 1)) {
      const o = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
      for (const k of ["id", "id_short", "model", "context_display", "cost_display", "duration_display", "lines_display", "started_at"]) expect(typeof o[k]).toBe("string");
      for (const k of ["context_percentage", "cost_usd", "duration_seconds"] as const) expect(Number.isFinite(v[k])).toBe(true);
    }
    expect(r.view("", 0)?.id_short).toBe("");
    expect(r.view("😀".repeat(9), 0)?.id_short).toBe("😀".repeat(8));
    expect(r.view("\ud800x", 0)?.working_directory).toBe(`...${"é".repeat(27)}`);
  });

  test("a flood of SubagentStart entries stays bounded", () => {
    const { r } = setup();
    for (let i = 0; i < 5000; i++) hook(r, "A", 10, "SubagentStart", { agent_id: `a${i}` }, i);
    expect(r.size).toBe(1);
  });

  test("never throws on any JSON shape", () => {
    const { r } = setup();
    const shapes: unknown[] = [undefined, 0, -0, true, "", [], {}, { session_id: {} }, { session_id: "s", pid: {} }, { session_id: "s", hook_event_name: "Stop", pid: 1e400 }, { __proto__: { session_id: "x" } }];
    for (const d of shapes) {
      expect(() => r.statusUpdate(d, 0)).not.toThrow();
      expect(() => r.hookEvent(d, 0)).not.toThrow();
    }
    expect(r.size).toBe(0);
  });
});

describe("lifecycle notes for the daemon's log (DAEMON.md §9)", () => {
  test("created (by what), renamed, removed with each reason; taken once; ids and pids only", async () => {
    const { r, sys } = setup(undefined, 60_000);
    status(r, "A", 10, { model: MODEL });
    hook(r, "B", 11, "PreToolUse", { tool_name: "Bash", prompt: "secret" });
    r.discovered([{ pid: 12, cwd: "/tmp", tmuxPane: null }], 1000);
    status(r, "C", 12, {}); // pending-12 gets its id
    hook(r, "B", 10, "Stop"); // B moves to pid 10, displacing A
    hook(r, "B", 10, "SessionEnd");
    status(r, "ghost", 4_000_000_000, { model: MODEL }, 1000);
    sys.kill(12);
    await r.cleanup(() => 61_000);
    expect(r.takeLifecycle()).toEqual([
      { kind: "created", id: "A", pid: 10, by: "status line" },
      { kind: "created", id: "B", pid: 11, by: "hook" },
      { kind: "created", id: "pending-12", pid: 12, by: "discovery" },
      { kind: "renamed", from: "pending-12", id: "C", pid: 12 },
      { kind: "removed", id: "A", pid: 10, reason: "displaced" },
      { kind: "removed", id: "B", pid: 10, reason: "ended" },
      { kind: "created", id: "ghost", pid: 4_000_000_000, by: "status line" },
      { kind: "removed", id: "C", pid: 12, reason: "process died" },
      { kind: "removed", id: "ghost", pid: 4_000_000_000, reason: "expired" },
    ]);
    expect(r.takeLifecycle()).toEqual([]);
  });

  test("nobody taking them: at most 1,024 are kept, the newest", () => {
    const { r } = setup(2000);
    for (let i = 0; i < 1500; i++) status(r, `s${i}`, 100_000 + i, { model: MODEL });
    const notes = r.takeLifecycle();
    expect(notes).toHaveLength(1024);
    expect(notes.at(-1)).toEqual({ kind: "created", id: "s1499", pid: 101_499, by: "status line" });
  });
});
