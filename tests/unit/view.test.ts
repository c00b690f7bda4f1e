// SessionView wire shape (SESSIONS.md §7, §15): both worked examples byte for byte, key order,
// null-versus-omitted, and the JSON types the reference TUI decodes strictly.
import { describe, expect, test } from "bun:test";
import { Registry } from "../../src/registry/registry.ts";
import { FakeSystem } from "../../src/registry/testing.ts";
import type { SessionView } from "../../src/registry/types.ts";
import { VIEW_KEY_ORDER } from "../helpers/protocol.ts";

const at = (iso: string) => Date.parse(iso);

const EXAMPLE_55 = {
  session_id: "8e11bfb5-7dc2-432b-9206-928fa5c35731", cwd: "/home/u/code/proj",
  model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" }, version: "2.0.76",
  cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
  context_window: {
    total_input_tokens: 50000, total_output_tokens: 10000, context_window_size: 200000,
    current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 },
  },
  pid: 41000, tmux_pane: "%5",
};

const VIEW_72 =
  '{"id":"8e11bfb5-7dc2-432b-9206-928fa5c35731","id_short":"8e11bfb5",' +
  '"agent_type":"main","model":"Opus 4.5","status":"idle","status_label":"idle","activity_detail":null,' +
  '"should_blink":false,"status_icon":"-","context_percentage":21.5,"context_display":"21.5% (43K/200K)",' +
  '"context_warning":false,"context_critical":false,"cost_display":"$0.35","cost_usd":0.35,' +
  '"duration_display":"2m 15s","duration_seconds":135,"lines_display":"+150 -30",' +
  '"working_directory":"/home/u/code/proj","needs_attention":false,"last_activity_display":"0s ago",' +
  '"age_display":"0s ago","started_at":"2026-01-15T10:00:00.123456000+00:00",' +
  '"last_activity":"2026-01-15T10:00:00.123456000+00:00","tmux_pane":"%5",' +
  '"project_root":"/home/u/code/proj","worktree_path":"/home/u/code/proj","worktree_branch":"main",' +
  '"harness":"claude"}';

const VIEW_72_PARENT =
  '{"id":"5b0e7c2a-41f3-4d2e-9a77-0c1d2e3f4a5b","id_short":"5b0e7c2a","agent_type":"main",' +
  '"model":"Sonnet 4.6","status":"attention_needed","status_label":"needs input",' +
  '"activity_detail":"Permission","should_blink":true,"status_icon":"!","context_percentage":82.5,' +
  '"context_display":"82.5% (165K/200K)","context_warning":true,"context_critical":false,' +
  '"cost_display":"$12.3","cost_usd":12.34,"duration_display":"1h 30m","duration_seconds":5400,' +
  '"lines_display":"+420 -77","working_directory":".../very-long-project-name/src",' +
  '"needs_attention":true,"last_activity_display":"12s ago","age_display":"1h ago",' +
  '"started_at":"2026-01-15T08:30:00.000000000+00:00","last_activity":"2026-01-15T09:59:48.250000000+00:00",' +
  '"tmux_pane":"%12","project_root":"/home/user/projects/very-long-project-name",' +
  '"child_session_ids":["9d4c3b2a-1e0f-4a5b-8c7d-6e5f4a3b2c1d"],' +
  '"first_prompt":"Refactor the parser to stream its input","harness":"claude"}';

const REQUIRED: Record<string, "string" | "boolean" | "number"> = {
  id: "string", id_short: "string", agent_type: "string", model: "string", status: "string",
  status_label: "string", status_icon: "string", context_display: "string", cost_display: "string",
  duration_display: "string", lines_display: "string", last_activity_display: "string",
  age_display: "string", started_at: "string", last_activity: "string",
  should_blink: "boolean", context_warning: "boolean", context_critical: "boolean", needs_attention: "boolean",
  context_percentage: "number", cost_usd: "number", duration_seconds: "number",
};

/** What the reference TUI's strict decoder demands (§15). */
export function assertDecodable(v: SessionView): void {
  const o = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
  for (const [k, t] of Object.entries(REQUIRED)) {
    expect(typeof o[k]).toBe(t);
    if (t === "number") expect(Number.isFinite(o[k])).toBe(true);
  }
  expect(["idle", "working", "attention_needed"]).toContain(o.status as string);
  const keys = Object.keys(o);
  const positions = keys.map((k) => VIEW_KEY_ORDER.indexOf(k));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  if (o.child_session_ids !== undefined) {
    expect(Array.isArray(o.child_session_ids)).toBe(true);
    for (const c of o.child_session_ids as unknown[]) expect(typeof c).toBe("string");
  }
  expect(o.started_at as string).toHaveLength(35);
  expect(o.last_activity as string).toHaveLength(35);
  expect(o.parent_session_id === undefined || o.parent_session_id !== o.id).toBe(true);
}

describe("§7.2 worked examples", () => {
  test("the status line of §5.5 publishes exactly the view of §7.2", () => {
    const sys = new FakeSystem().spawn(41000);
    sys.git.set("/home/u/code/proj", { projectRoot: "/home/u/code/proj", worktreePath: "/home/u/code/proj", worktreeBranch: "main" });
    const r = new Registry({ system: sys });
    const now = at("2026-01-15T10:00:00.123Z") + 0.456;
    const res = r.statusUpdate(EXAMPLE_55, now);
    expect(res.error).toBeUndefined();
    expect(res.events).toHaveLength(1);
    expect(JSON.stringify(res.events[0])).toBe(`{"type":"session_updated","session":${VIEW_72}}`);
    expect(JSON.stringify(r.list(now))).toBe(`[${VIEW_72}]`);
  });

  test("the parent waiting for permission with a linked subagent", () => {
    const sys = new FakeSystem().spawn(100).spawn(150, 100).spawn(200, 150);
    sys.git.set("/home/user/projects/very-long-project-name/src", { projectRoot: "/home/user/projects/very-long-project-name" });
    const r = new Registry({ system: sys });
    const parent = "5b0e7c2a-41f3-4d2e-9a77-0c1d2e3f4a5b";
    const child = "9d4c3b2a-1e0f-4a5b-8c7d-6e5f4a3b2c1d";
    const t0 = at("2026-01-15T08:30:00.000Z");
    expect(r.hookEvent({ session_id: parent, hook_event_name: "SessionStart", pid: 100, tmux_pane: "%12", cwd: "/home/user/projects/very-long-project-name/src" }, t0).error).toBeUndefined();
    r.hookEvent({ session_id: parent, hook_event_name: "UserPromptSubmit", prompt: "Refactor the parser to stream its input", pid: 100 }, t0 + 1000);
    r.hookEvent({ session_id: parent, hook_event_name: "SubagentStart", agent_id: "a1", agent_type: "general-purpose", pid: 100 }, t0 + 2000);
    const linked = r.hookEvent({ session_id: child, hook_event_name: "SessionStart", pid: 200 }, t0 + 3000);
    expect(linked.events.map((e) => (e.type === "session_updated" ? e.session.id : e.session_id))).toEqual([child, parent, child]);
    r.statusUpdate({
      session_id: parent, pid: 100, model: { id: "claude-sonnet-4-6", display_name: "Sonnet 4.6" },
      cost: { total_cost_usd: 12.34, total_duration_ms: 5_400_000, total_lines_added: 420, total_lines_removed: 77 },
      context_window: { context_window_size: 200000, current_usage: { cache_read_input_tokens: 150000, input_tokens: 10000, cache_creation_input_tokens: 5000 } },
    }, at("2026-01-15T09:59:40.000Z"));
    r.hookEvent({ session_id: parent, hook_event_name: "PermissionRequest", tool_name: "Bash", pid: 100 }, at("2026-01-15T09:59:48.250Z"));
    const v = r.view(parent, at("2026-01-15T10:00:00.400Z"));
    expect(JSON.stringify(v)).toBe(VIEW_72_PARENT);
    const c = r.view(child, at("2026-01-15T10:00:00.400Z"));
    expect(c?.parent_session_id).toBe(parent);
    expect(c?.agent_type).toBe("main");
    for (const s of r.list(at("2026-01-15T10:00:00.400Z"))) assertDecodable(s);
  });
});

describe("§7.1 null versus omitted", () => {
  test("a bare discovered session: nulls present, optional keys absent", () => {
    const sys = new FakeSystem().spawn(7);
    const r = new Registry({ system: sys });
    const now = at("2026-01-15T10:00:00Z");
    r.discovered([{ pid: 7, cwd: "/nowhere", tmuxPane: null }], now);
    const v = r.view("pending-7", now) as SessionView;
    assertDecodable(v);
    expect(v.activity_detail).toBeNull();
    expect(v.tmux_pane).toBeNull();
    expect(v.working_directory).toBe("/nowhere");
    for (const k of ["project_root", "worktree_path", "worktree_branch", "parent_session_id", "child_session_ids", "first_prompt"]) {
      expect(Object.hasOwn(v, k)).toBe(false);
    }
    expect(v.model).toBe("Unknown");
    expect(v.context_display).toBe("0.0% (0/200K)");
    expect(v.started_at).toBe(v.last_activity);
    expect(Object.keys(v).at(-1)).toBe("harness");
  });

  test("a hook-created session without cwd has a null working_directory", () => {
    const r = new Registry({ system: new FakeSystem() });
    r.hookEvent({ session_id: "s", hook_event_name: "Stop", pid: 5 }, 0);
    expect(r.view("s", 0)?.working_directory).toBeNull();
  });
});

describe("§9.9 status enumeration in the view", () => {
  test.each([
    ["Stop", undefined, "idle", "idle", "-", false],
    ["PreToolUse", "Bash", "working", "working", ">", false],
    ["PermissionRequest", undefined, "attention_needed", "needs input", "!", true],
  ] as const)("%p", (event, tool, status, label, icon, blink) => {
    const r = new Registry({ system: new FakeSystem() });
    r.hookEvent({ session_id: "s", hook_event_name: event, tool_name: tool, pid: 5 }, 0);
    const v = r.view("s", 0) as SessionView;
    expect([v.status, v.status_label, v.status_icon, v.should_blink, v.needs_attention]).toEqual([status, label, icon, blink, blink]);
  });

  test("needs_attention also at 80 % context; warning and critical thresholds", () => {
    const r = new Registry({ system: new FakeSystem() });
    const line = (tokens: number) => ({ session_id: "s", pid: 5, model: { id: "claude-opus-4-6" }, context_window: { current_usage: { input_tokens: tokens } } });
    for (const [tokens, warn, crit] of [[159_999, false, false], [160_000, true, false], [180_000, true, true]] as const) {
      r.statusUpdate(line(tokens), 0);
      const v = r.view("s", 0) as SessionView;
      expect([v.context_warning, v.context_critical, v.needs_attention]).toEqual([warn, crit, warn]);
    }
  });
});
