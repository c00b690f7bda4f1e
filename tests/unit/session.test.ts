// The status-line path (SESSIONS.md §5.3, §5.4) and the hook transition table (§6.3, §6.4,
// §6.7), driven through the Registry so each row also checks what gets published.
import { describe, expect, test } from "bun:test";
import { Registry } from "../../src/registry/registry.ts";
import { FakeSystem } from "../../src/registry/testing.ts";
import type { SessionView } from "../../src/registry/types.ts";

const SID = "8e11bfb5-7dc2-432b-9206-928fa5c35731";
const PID = 41000;

function fresh(): { r: Registry; sys: FakeSystem } {
  const sys = new FakeSystem().spawn(PID);
  return { r: new Registry({ system: sys }), sys };
}

function hook(r: Registry, name: string, extra: Record<string, unknown> = {}, now = 1000): SessionView | undefined {
  const res = r.hookEvent({ session_id: SID, hook_event_name: name, pid: PID, ...extra }, now);
  expect(res.error).toBeUndefined();
  return r.view(SID, now);
}

const FULL = {
  session_id: SID, cwd: "/home/u/code/proj", model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" }, version: "2.0.76",
  cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
  context_window: { total_input_tokens: 50000, total_output_tokens: 10000, context_window_size: 200000, current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 } },
  pid: PID, tmux_pane: "%5",
};

describe("§6.3 transition table", () => {
  // [event, extra fields, prior state set by (event, extra), status, activity]
  type Row = [string, Record<string, unknown>, string, string | null];
  const rows: Row[] = [
    ["PreToolUse", { tool_name: "AskUserQuestion" }, "attention_needed", "AskUserQuestion"],
    ["PreToolUse", { tool_name: "EnterPlanMode" }, "attention_needed", "EnterPlanMode"],
    ["PreToolUse", { tool_name: "ExitPlanMode" }, "attention_needed", "ExitPlanMode"],
    ["PreToolUse", { tool_name: "  ExitPlanMode\n" }, "attention_needed", "  ExitPlanMode\n"],
    ["PreToolUse", { tool_name: "askuserquestion" }, "working", "askuserquestion"],
    ["PreToolUse", { tool_name: "Bash" }, "working", "Bash"],
    ["PreToolUse", { tool_name: "" }, "working", ""],
    ["PermissionRequest", { tool_name: "Bash" }, "attention_needed", "Permission"],
    ["PostToolUse", { tool_name: "AskUserQuestion" }, "working", "Thinking"],
    ["PostToolUseFailure", {}, "working", "Thinking"],
    ["PostToolBatch", {}, "working", "Thinking"],
    ["UserPromptSubmit", { prompt: "x" }, "working", null],
    ["UserPromptExpansion", {}, "working", null],
    ["Stop", {}, "idle", null],
    ["StopFailure", { error: "rate_limit" }, "idle", "API error: rate_limit"],
    ["StopFailure", {}, "idle", "API error: unknown"],
    ["StopFailure", { error: "" }, "idle", "API error: unknown"],
    ["StopFailure", { error: { code: 1 } }, "idle", "API error: unknown"],
    ["SessionStart", { source: "resume" }, "idle", null],
    ["PreCompact", {}, "working", "Compacting"],
    ["PostCompact", {}, "working", null],
    ["Setup", {}, "working", "Setup"],
    ["Elicitation", {}, "attention_needed", "MCP Input"],
    ["ElicitationResult", {}, "working", null],
    ["Notification", { notification_type: "permission_prompt" }, "attention_needed", "Permission"],
    ["Notification", { notification_type: "idle_prompt" }, "idle", null],
    ["Notification", { notification_type: "elicitation_dialog" }, "attention_needed", "MCP Input"],
    ["Notification", { notification_type: "agent_needs_input" }, "attention_needed", "Input"],
  ];
  test.each(rows)("%p %p -> %p / %p", (event, extra, status, activity) => {
    const { r } = fresh();
    hook(r, "PreToolUse", { tool_name: "Read" }); // a prior state every row must overwrite
    const v = hook(r, event, extra, 2000) as SessionView;
    expect(v.status).toBe(status as SessionView["status"]);
    expect(v.activity_detail).toBe(activity);
  });

  // Rows that leave status and/or activity unchanged, from a known prior state.
  test.each<[string, Record<string, unknown>, string, string | null]>([
    ["PreToolUse", {}, "working", "Read"],
    ["SubagentStart", { agent_id: "a" }, "working", "Read"],
    ["SubagentStop", { agent_id: "a" }, "working", "Read"],
    ["CwdChanged", { new_cwd: "/x" }, "working", "Read"],
    ["Notification", { notification_type: "auth_success" }, "working", "Read"],
    ["Notification", {}, "working", "Read"],
  ])("%p %p leaves the state alone", (event, extra, status, activity) => {
    const { r } = fresh();
    hook(r, "PreToolUse", { tool_name: "Read" });
    const v = hook(r, event, extra, 2000) as SessionView;
    expect([v.status, v.activity_detail]).toEqual([status as SessionView["status"], activity]);
    expect(v.last_activity).not.toBe(v.started_at);
  });

  test("SubagentStart/Stop set working but keep the activity from idle", () => {
    const { r } = fresh();
    hook(r, "StopFailure", { error: "overloaded" });
    const v = hook(r, "SubagentStart", { agent_id: "a" }) as SessionView;
    expect([v.status, v.activity_detail]).toEqual(["working", "API error: overloaded"]);
  });

  test("every recognised event publishes exactly one session_updated, even with no visible change", () => {
    const { r } = fresh();
    hook(r, "Stop");
    for (const name of ["PreToolUse", "Notification", "CwdChanged"]) {
      const res = r.hookEvent({ session_id: SID, hook_event_name: name, pid: PID }, 3000);
      expect(res.events.map((e) => e.type)).toEqual(["session_updated"]);
    }
  });
});

describe("§6.7 a typical turn", () => {
  test("states and strings after each event", () => {
    const { r } = fresh();
    const rows: [Record<string, unknown>, string, string, string | null][] = [
      [{ hook_event_name: "SessionStart", source: "startup" }, "idle", "idle", null],
      [{ hook_event_name: "UserPromptSubmit", prompt: "Fix the failing build" }, "working", "working", null],
      [{ hook_event_name: "PreToolUse", tool_name: "Bash" }, "working", "working", "Bash"],
      [{ hook_event_name: "PermissionRequest", tool_name: "Bash" }, "attention_needed", "needs input", "Permission"],
      [{ hook_event_name: "PostToolUse", tool_name: "Bash" }, "working", "working", "Thinking"],
      [{ hook_event_name: "PreToolUse", tool_name: "AskUserQuestion" }, "attention_needed", "needs input", "AskUserQuestion"],
      [{ hook_event_name: "PostToolUse", tool_name: "AskUserQuestion" }, "working", "working", "Thinking"],
      [{ hook_event_name: "Stop" }, "idle", "idle", null],
      [{ hook_event_name: "StopFailure", error: "rate_limit" }, "idle", "idle", "API error: rate_limit"],
    ];
    let t = 1000;
    for (const [data, status, label, activity] of rows) {
      const res = r.hookEvent({ session_id: SID, pid: PID, ...data }, (t += 10));
      expect(res.events).toHaveLength(1);
      const ev = res.events[0];
      if (ev?.type !== "session_updated") throw new Error("expected session_updated");
      expect([ev.session.status, ev.session.status_label, ev.session.activity_detail]).toEqual([status as SessionView["status"], label, activity]);
      expect(ev.session.first_prompt).toBe(t > 1010 ? "Fix the failing build" : undefined);
    }
    const end = r.hookEvent({ session_id: SID, pid: PID, hook_event_name: "SessionEnd", reason: "prompt_input_exit" }, t + 10);
    expect(end.events).toEqual([{ type: "session_removed", session_id: SID }]);
    expect(r.list(t)).toEqual([]);
  });
});

describe("§6.2 step 6 extras", () => {
  test("first_prompt: first non-empty prompt only, cut to 500 code points", () => {
    const { r } = fresh();
    hook(r, "UserPromptSubmit", { prompt: "" });
    expect(r.view(SID, 0)?.first_prompt).toBeUndefined();
    hook(r, "UserPromptExpansion", { prompt: "not this one" });
    expect(r.view(SID, 0)?.first_prompt).toBeUndefined();
    const big = "日本😀".repeat(200_000); // ~1.2 MB of UTF-16, far over 500 KiB
    hook(r, "UserPromptSubmit", { prompt: big });
    const fp = r.view(SID, 0)?.first_prompt as string;
    expect(Array.from(fp)).toHaveLength(500);
    expect(fp).toBe(Array.from(big).slice(0, 500).join(""));
    hook(r, "UserPromptSubmit", { prompt: "second" });
    expect(r.view(SID, 0)?.first_prompt).toBe(fp);
  });

  test("tmux_pane stored when none, never overwritten", () => {
    const { r } = fresh();
    hook(r, "Stop");
    expect(r.view(SID, 0)?.tmux_pane).toBeNull();
    hook(r, "Stop", { tmux_pane: "%1" });
    hook(r, "Stop", { tmux_pane: "%2" });
    expect(r.view(SID, 0)?.tmux_pane).toBe("%1");
  });

  test("hook cwd only when none is stored ('' counts as absent); CwdChanged replaces it", () => {
    const { r, sys } = fresh();
    sys.git.set("/a", { projectRoot: "/a" });
    sys.git.set("/b/c", { projectRoot: "/b" });
    hook(r, "Stop", { cwd: "" });
    expect(r.view(SID, 0)?.working_directory).toBeNull();
    hook(r, "Stop", { cwd: "/a" });
    expect(r.view(SID, 0)?.project_root).toBe("/a");
    hook(r, "Stop", { cwd: "/elsewhere" });
    expect(r.view(SID, 0)?.working_directory).toBe("/a");
    hook(r, "CwdChanged", { cwd: "/a", new_cwd: "/b/c" });
    expect([r.view(SID, 0)?.working_directory, r.view(SID, 0)?.project_root]).toEqual(["/b/c", "/b"]);
    hook(r, "CwdChanged", { cwd: "/a", new_cwd: 42 });
    expect(r.view(SID, 0)?.working_directory).toBe("/a");
    hook(r, "CwdChanged", { cwd: "", new_cwd: "" });
    expect(r.view(SID, 0)?.working_directory).toBe("/a");
  });
});

describe("§5.3 what a status line changes", () => {
  test("the partial line of §5.5", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 1000);
    const res = r.statusUpdate({ session_id: SID, pid: PID, cost: { total_cost_usd: 0.5, total_duration_ms: 200000 } }, 2000);
    const v = r.view(SID, 2000) as SessionView;
    expect(res.events).toHaveLength(1);
    expect([v.cost_display, v.duration_display, v.lines_display, v.context_display, v.status]).toEqual(["$0.50", "3m 20s", "+0 -0", "21.5% (43K/200K)", "working"]);
    expect([v.model, v.working_directory, v.tmux_pane]).toEqual(["Opus 4.5", "/home/u/code/proj", "%5"]);
  });

  test.each<[string, Record<string, unknown>, Partial<SessionView>]>([
    ["null groups are absent", { cost: null, context_window: null, model: null, cwd: null, version: null, tmux_pane: null }, { cost_display: "$0.35", context_display: "21.5% (43K/200K)", model: "Opus 4.5" }],
    ["current_usage null zeroes the context (after /clear)", { context_window: { current_usage: null } }, { context_display: "0.0% (0/200K)", context_percentage: 0 }],
    ["current_usage absent zeroes the context", { context_window: { total_input_tokens: 5 } }, { context_display: "0.0% (0/200K)" }],
    ["window size replaced when present", { context_window: { context_window_size: 1_000_000, current_usage: { cache_read_input_tokens: 43000 } } }, { context_display: "4.3% (43K/1.0M)" }],
    ["window size 0 wins over the default", { context_window: { context_window_size: 0, current_usage: { input_tokens: 1250 } } }, { context_display: "0.0% (1.2K/0)", context_percentage: 0 }],
    ["model replaced", { model: { id: "gpt-4o", display_name: "GPT-4o" } }, { model: "GPT-4o" }],
    ["empty cwd stored as given", { cwd: "" }, { working_directory: "" }],
    ["negative cost kept", { cost: { total_cost_usd: -0.5, total_duration_ms: 0 } }, { cost_display: "$-0.50", cost_usd: -0.5 }],
    ["huge cost clamped", { cost: { total_cost_usd: 1e15, total_duration_ms: 0 } }, { cost_display: "$9223372036855", cost_usd: 9223372036854.775 }],
    ["tmux pane never overwritten", { tmux_pane: "%9" }, { tmux_pane: "%5" }],
  ])("%s", (_name, patch, want) => {
    const { r } = fresh();
    r.statusUpdate(FULL, 1000);
    expect(r.statusUpdate({ session_id: SID, pid: PID, ...patch }, 2000).error).toBeUndefined();
    expect(r.view(SID, 2000)).toMatchObject(want);
  });

  test("default window follows a later [1m] model until a size is received", () => {
    const { r } = fresh();
    r.statusUpdate({ session_id: SID, pid: PID, model: { id: "claude-opus-4-6" }, context_window: { current_usage: { input_tokens: 100_000 } } }, 0);
    expect(r.view(SID, 0)?.context_display).toBe("50.0% (100K/200K)");
    r.statusUpdate({ session_id: SID, pid: PID, model: { id: "claude-opus-4-6[1m]" } }, 0);
    expect(r.view(SID, 0)?.context_display).toBe("10.0% (100K/1.0M)");
  });

  test("a status-line-created session takes tmux_pane from the line", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 0);
    expect(r.view(SID, 0)?.tmux_pane).toBe("%5");
  });

  test("cwd change re-resolves git; unknown project_root retried on later lines", () => {
    const { r, sys } = fresh();
    r.statusUpdate({ ...FULL, cwd: "/p" }, 0);
    expect(r.view(SID, 0)?.project_root).toBeUndefined();
    sys.git.set("/q", { projectRoot: "/q", worktreePath: "/q", worktreeBranch: "dev" });
    r.statusUpdate({ session_id: SID, pid: PID, cwd: "/q" }, 1);
    expect(r.view(SID, 1)).toMatchObject({ project_root: "/q", worktree_branch: "dev" });
  });
});

describe("§5.4 status effect of status lines", () => {
  test("created idle; working on the next line while no hook was seen", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 0);
    expect(r.view(SID, 0)?.status).toBe("idle");
    r.statusUpdate({ session_id: SID, pid: PID }, 1);
    expect(r.view(SID, 1)?.status).toBe("working");
  });

  test("after any hook, status lines leave status and activity alone", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 0);
    r.hookEvent({ session_id: SID, pid: PID, hook_event_name: "Stop" }, 1);
    r.statusUpdate({ session_id: SID, pid: PID }, 2);
    expect(r.view(SID, 2)?.status).toBe("idle");
  });

  test("an unknown hook event also counts as a hook seen", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 0);
    r.hookEvent({ session_id: SID, pid: PID, hook_event_name: "TaskCreated" }, 1);
    r.statusUpdate({ session_id: SID, pid: PID }, 2);
    expect(r.view(SID, 2)?.status).toBe("idle");
  });

  test("status lines never clear attention_needed", () => {
    const { r } = fresh();
    r.hookEvent({ session_id: SID, pid: PID, hook_event_name: "PermissionRequest" }, 0);
    r.statusUpdate(FULL, 1);
    expect(r.view(SID, 1)).toMatchObject({ status: "attention_needed", activity_detail: "Permission" });
  });
});

describe("§8 monotonic timestamps", () => {
  test("last_activity never moves backwards when the clock steps back", () => {
    const { r } = fresh();
    r.statusUpdate(FULL, 10_000);
    r.statusUpdate({ session_id: SID, pid: PID }, 5_000);
    const v = r.view(SID, 5_000) as SessionView;
    expect(v.last_activity).toBe(v.started_at);
    expect(v.last_activity_display).toBe("now");
    r.statusUpdate({ session_id: SID, pid: PID }, 12_000);
    expect((r.view(SID, 12_000)?.last_activity ?? "") > v.started_at).toBe(true);
  });
});
