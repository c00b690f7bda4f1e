// Black-box tests of the session registry over the real socket (SESSIONS.md §3–§7, §11, §13–§15;
// PROTOCOL.md §10, §12, §13): a scripted Claude turn seen by a subscriber, the SessionView shape
// of the §5.5/§7.2 example byte by byte, SessionEnd and dead-process removal, git branch
// tracking, rename/move, the session cap, hostile input, subagent links, stats counters, and the
// daemon's RSS with 100 sessions and 10 subscribers.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LineClient } from "../helpers/client.ts";
import { startDaemon, stopAll, tempDir, type TestDaemon } from "../helpers/daemon.ts";
import { VIEW_KEY_ORDER } from "../helpers/protocol.ts";

// Generous: daemons are spawned per test on a shared 2-core machine; the git and liveness tests
// wait for the 5 s and 2 s timers. Every wait inside has its own deadline.
setDefaultTimeout(30_000);

// ---------------------------------------------------------------------------------------------
// Helpers

type Msg = Record<string, unknown>;
interface Raw {
  line: string;
  m: Msg;
}

const MODEL = { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" };
const spawned: Subprocess[] = [];
const detachedPids: number[] = [];
const dirs: string[] = [];

/** A live process (`sleep`) whose pid can carry a session; killed in afterAll. */
function sleeper(): Subprocess {
  const p = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  spawned.push(p);
  return p;
}

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const p of spawned.splice(0)) p.kill("SIGKILL");
  for (const pid of detachedPids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await stopAll();
  const { rmSync } = await import("node:fs");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let seq = 1000;

/** Sends a ping on `c` and returns every line that arrived before its pong. */
async function drain(c: LineClient, ms = 10_000): Promise<Raw[]> {
  const mySeq = ++seq;
  c.request("ping", { seq: mySeq });
  const out: Raw[] = [];
  const deadline = performance.now() + ms;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`no pong within ${ms} ms; saw ${JSON.stringify(out.map((r) => r.m)).slice(0, 2000)}`);
    const line = await c.nextLine(left);
    if (line === null) throw new Error(`connection closed; saw ${JSON.stringify(out.map((r) => r.m)).slice(0, 2000)}`);
    const m = JSON.parse(line) as Msg;
    if (m.type === "pong" && m.seq === mySeq) return out;
    out.push({ line, m });
  }
}

/** Reads raw lines until `pred` holds (inclusive), failing after `ms`. */
async function rawUntil(c: LineClient, pred: (m: Msg) => boolean, ms: number): Promise<Raw[]> {
  const out: Raw[] = [];
  const deadline = performance.now() + ms;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`condition not met within ${ms} ms; saw ${JSON.stringify(out.map((r) => r.m)).slice(0, 3000)}`);
    let line: string | null;
    try {
      line = await c.nextLine(left);
    } catch {
      continue; // the timeout of nextLine; the loop reports with what was seen
    }
    if (line === null) throw new Error(`connection closed; saw ${JSON.stringify(out.map((r) => r.m)).slice(0, 2000)}`);
    const m = JSON.parse(line) as Msg;
    out.push({ line, m });
    if (pred(m)) return out;
  }
}

interface Harness {
  d: TestDaemon;
  tx: LineClient;
  sub: LineClient;
}

/** A daemon with a sender connection and a subscribed connection (initial list consumed). */
async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const d = await startDaemon({ env });
  const tx = await d.client("tx");
  const sub = await d.client("sub");
  sub.request("subscribe");
  const first = await sub.next(5000);
  expect(first?.type).toBe("session_list");
  return { d, tx, sub };
}

interface StepResult {
  replies: Raw[];
  events: Raw[];
}

/**
 * Sends one message and returns (a) what the sender got back before its pong and (b) what the
 * subscriber received by the time a ping sent after that pong is answered — i.e. exactly the
 * broadcasts this message caused (PROTOCOL.md §12: per-connection order, one global order).
 */
async function step(h: Harness, type: string, data: unknown): Promise<StepResult> {
  h.tx.request(type, { data });
  const replies = await drain(h.tx);
  const events = await drain(h.sub);
  return { replies, events };
}

const hookData = (sid: string, pid: number | undefined, name: string, extra: Msg = {}): Msg => ({
  session_id: sid,
  hook_event_name: name,
  ...(pid === undefined ? {} : { pid }),
  ...extra,
});

async function list(c: LineClient): Promise<Msg[]> {
  c.request("list_sessions");
  const m = await c.expect("session_list", 10_000);
  return m.sessions as Msg[];
}

async function stats(c: LineClient): Promise<Msg> {
  c.request("stats");
  return c.expect("stats", 10_000);
}

function counters(s: Msg): Record<string, number> {
  return s.counters as Record<string, number>;
}

const errorLine = (message: string, code: string) => JSON.stringify({ type: "error", message, code });

function updated(r: Raw): Msg {
  expect(r.m.type).toBe("session_updated");
  return r.m.session as Msg;
}

function shorten(path: string): string {
  const cps = [...path];
  return cps.length > 30 ? `...${cps.slice(-27).join("")}` : path;
}

// ---- SessionView shape (SESSIONS.md §7.1, §8, §9.9, §15) ------------------------------------

const REQUIRED_STRING = [
  "id", "id_short", "agent_type", "model", "status", "status_label", "status_icon", "context_display",
  "cost_display", "duration_display", "lines_display", "last_activity_display", "age_display",
  "started_at", "last_activity",
];
const REQUIRED_BOOL = ["should_blink", "context_warning", "context_critical", "needs_attention"];
const REQUIRED_NUMBER = ["context_percentage", "cost_usd", "duration_seconds"];
const NULLABLE = ["activity_detail", "working_directory", "tmux_pane"];
const OMITTABLE = ["project_root", "worktree_path", "worktree_branch", "parent_session_id", "first_prompt"];
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}\+00:00$/;
const STATUS: Record<string, { label: string; icon: string; blink: boolean }> = {
  idle: { label: "idle", icon: "-", blink: false },
  working: { label: "working", icon: ">", blink: false },
  attention_needed: { label: "needs input", icon: "!", blink: true },
};

/** Returns a list of problems with one SessionView (empty = conforms). */
function viewProblems(v: Msg): string[] {
  const p: string[] = [];
  const keys = Object.keys(v);
  let last = -1;
  for (const k of keys) {
    const i = VIEW_KEY_ORDER.indexOf(k);
    if (i < 0) p.push(`unexpected key ${k}`);
    else if (i <= last) p.push(`key ${k} out of order`);
    else last = i;
  }
  for (const k of REQUIRED_STRING) if (typeof v[k] !== "string") p.push(`${k} not a string: ${JSON.stringify(v[k])}`);
  for (const k of REQUIRED_BOOL) if (typeof v[k] !== "boolean") p.push(`${k} not a boolean`);
  for (const k of REQUIRED_NUMBER) if (typeof v[k] !== "number" || !Number.isFinite(v[k])) p.push(`${k} not a finite number: ${JSON.stringify(v[k])}`);
  for (const k of NULLABLE) if (!(k in v) || (v[k] !== null && typeof v[k] !== "string")) p.push(`${k} must be present, string or null`);
  for (const k of OMITTABLE) if (k in v && typeof v[k] !== "string") p.push(`${k} present but not a string (omit when empty)`);
  if ("child_session_ids" in v) {
    const c = v.child_session_ids;
    if (!Array.isArray(c) || c.length === 0 || !c.every((x) => typeof x === "string")) p.push("child_session_ids must be a non-empty string array when present");
  }
  if (v.harness !== "claude") p.push("harness must be claude");
  const st = STATUS[v.status as string];
  if (!st) p.push(`bad status ${String(v.status)}`);
  else {
    if (v.status_label !== st.label) p.push("status_label mismatch");
    if (v.status_icon !== st.icon) p.push("status_icon mismatch");
    if (v.should_blink !== st.blink) p.push("should_blink mismatch");
  }
  const pct = v.context_percentage as number;
  if (v.context_warning !== pct >= 80) p.push("context_warning mismatch");
  if (v.context_critical !== pct >= 90) p.push("context_critical mismatch");
  if (v.needs_attention !== (v.status === "attention_needed" || pct >= 80)) p.push("needs_attention mismatch");
  for (const k of ["started_at", "last_activity"]) if (typeof v[k] === "string" && !TS.test(v[k] as string)) p.push(`${k} not a 35-char +00:00 timestamp: ${String(v[k])}`);
  if (typeof v.started_at === "string" && typeof v.last_activity === "string" && v.started_at > v.last_activity) p.push("started_at > last_activity");
  if (typeof v.id === "string" && v.id_short !== [...(v.id as string)].slice(0, 8).join("")) p.push("id_short mismatch");
  return p;
}

/** Raw-line checks: whole floats written without a decimal point, nothing non-finite (§3.4). */
function rawProblems(line: string): string[] {
  const p: string[] = [];
  for (const k of ["context_percentage", "cost_usd", "duration_seconds"]) {
    const m = new RegExp(`"${k}":(-?[0-9][0-9.eE+-]*)[,}]`).exec(line);
    if (!m) p.push(`${k} not a plain number in the raw line`);
    else if (/\.0+$/.test(m[1] as string)) p.push(`${k} written as ${m[1]} (whole float with decimal point)`);
  }
  if (/":(NaN|Infinity|-Infinity)/.test(line)) p.push("non-finite number");
  for (const k of OMITTABLE) if (line.includes(`"${k}":null`)) p.push(`${k}:null instead of omitted`);
  return p;
}

function expectGoodView(v: Msg, line?: string): void {
  expect({ id: v.id, problems: viewProblems(v) }).toEqual({ id: v.id, problems: [] });
  if (line !== undefined) expect({ id: v.id, problems: rawProblems(line) }).toEqual({ id: v.id, problems: [] });
}

const TIME_FIELDS = ["last_activity_display", "age_display"];
function stripTime(sessions: Msg[]): Msg[] {
  return sessions.map((s) => Object.fromEntries(Object.entries(s).filter(([k]) => !TIME_FIELDS.includes(k))));
}

function git(cwd: string, ...args: string[]): void {
  const r = Bun.spawnSync(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: cwd, GIT_TERMINAL_PROMPT: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

function vmRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------

describe("a scripted Claude turn (SESSIONS.md §6.3, §6.7, §9.9)", () => {
  test("the subscriber sees exactly one session_updated per event with the spec's states and strings", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    const cwd = dir("atmd-turn-");
    const sid = "0a1b2c3d-turn-4e5f-8a9b-0c1d2e3f4a5b";
    type Row = [name: string, extra: Msg, status: string, activity: string | null];
    const rows: Row[] = [
      ["SessionStart", { source: "startup", cwd, tmux_pane: "%7" }, "idle", null],
      ["UserPromptSubmit", { prompt: "Fix the failing build" }, "working", null],
      ["PreToolUse", { tool_name: "Read", tool_input: { file_path: "/x" } }, "working", "Read"],
      ["PostToolUse", { tool_name: "Read", tool_response: "…" }, "working", "Thinking"],
      ["PreToolUse", { tool_name: "Bash" }, "working", "Bash"],
      ["PermissionRequest", { tool_name: "Bash" }, "attention_needed", "Permission"],
      ["PostToolUse", { tool_name: "Bash" }, "working", "Thinking"],
      ["PreToolUse", { tool_name: "AskUserQuestion" }, "attention_needed", "AskUserQuestion"],
      ["PostToolUse", { tool_name: "AskUserQuestion" }, "working", "Thinking"],
      ["Stop", { stop_hook_active: false }, "idle", null],
      ["StopFailure", { error: "rate_limit" }, "idle", "API error: rate_limit"],
    ];
    const seen: Msg[] = [];
    for (const [name, extra, status, activity] of rows) {
      const { replies, events } = await step(h, "hook_event", hookData(sid, pid, name, extra));
      expect({ name, replies: replies.map((r) => r.m) }).toEqual({ name, replies: [] });
      expect({ name, types: events.map((e) => e.m.type) }).toEqual({ name, types: ["session_updated"] });
      const e = events[0] as Raw;
      const v = updated(e);
      expectGoodView(v, e.line);
      const st = STATUS[status] as { label: string; icon: string; blink: boolean };
      expect({
        name,
        id: v.id,
        status: v.status,
        status_label: v.status_label,
        activity_detail: v.activity_detail,
        status_icon: v.status_icon,
        should_blink: v.should_blink,
        needs_attention: v.needs_attention,
      }).toEqual({
        name,
        id: sid,
        status,
        status_label: st.label,
        activity_detail: activity,
        status_icon: st.icon,
        should_blink: st.blink,
        needs_attention: status === "attention_needed",
      });
      // Hook-created session: model Unknown, 0 % context; pane and cwd from the first hook.
      expect(v.model).toBe("Unknown");
      expect(v.context_display).toBe("0.0% (0/200K)");
      expect(e.line).toContain('"context_percentage":0,');
      expect(v.tmux_pane).toBe("%7");
      expect(v.working_directory).toBe(shorten(cwd));
      if (name !== "SessionStart") expect(v.first_prompt).toBe("Fix the failing build");
      else expect("first_prompt" in v).toBe(false);
      seen.push(v);
    }
    // Timestamps: started_at fixed, last_activity never moves backwards (§8).
    for (let i = 1; i < seen.length; i++) {
      expect((seen[i] as Msg).started_at).toBe((seen[0] as Msg).started_at);
      expect((seen[i] as Msg).last_activity as string >= ((seen[i - 1] as Msg).last_activity as string)).toBe(true);
    }

    // A status line after the turn: the model shows up, the session stays idle with its activity
    // (§5.4: hooks_seen; §15 "Status after a status-line refresh following Stop").
    const sl = await step(h, "status_update", { session_id: sid, pid, model: MODEL, cwd });
    expect(sl.replies).toEqual([]);
    expect(sl.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    const afterSl = updated(sl.events[0] as Raw);
    expect([afterSl.model, afterSl.status, afterSl.activity_detail]).toEqual(["Opus 4.5", "idle", "API error: rate_limit"]);

    // SessionEnd removes it (§6.6): exactly one session_removed, no reply.
    const end = await step(h, "hook_event", hookData(sid, pid, "SessionEnd", { reason: "prompt_input_exit" }));
    expect(end.replies).toEqual([]);
    expect(end.events.map((e) => e.line)).toEqual([JSON.stringify({ type: "session_removed", session_id: sid })]);
    expect(await list(h.tx)).toEqual([]);
  });

  test("the same turn pipelined in one write: two subscribers see the identical, complete sequence (PROTOCOL.md §12)", async () => {
    const h = await harness();
    const sub2 = await h.d.client("sub2");
    sub2.request("subscribe");
    expect((await sub2.next(5000))?.type).toBe("session_list");
    const pid = sleeper().pid;
    const sid = "pipelined-turn";
    const rows: [string, Msg, string][] = [
      ["SessionStart", { source: "resume" }, "idle/null"],
      ["UserPromptSubmit", { prompt: "p" }, "working/null"],
      ["PreToolUse", { tool_name: "Bash" }, "working/Bash"],
      ["PostToolUse", { tool_name: "Bash" }, "working/Thinking"],
      ["PermissionRequest", { tool_name: "Edit" }, "attention_needed/Permission"],
      ["PostToolUse", { tool_name: "Edit" }, "working/Thinking"],
      ["PreToolUse", {}, "working/Thinking"], // no tool_name: unchanged, still published (§6.2 step 7)
      ["Notification", { notification_type: "auth_success" }, "working/Thinking"],
      ["Stop", {}, "idle/null"],
      ["SessionEnd", {}, "removed"],
    ];
    h.tx.send(rows.map(([name, extra]) => JSON.stringify({ protocol_version: { major: 1, minor: 0 }, type: "hook_event", data: hookData(sid, pid, name, extra) })).join("\n") + "\n");
    expect(await drain(h.tx)).toEqual([]);
    const label = (r: Raw) => (r.m.type === "session_removed" ? "removed" : `${String((r.m.session as Msg).status)}/${String((r.m.session as Msg).activity_detail)}`);
    const a = await drain(h.sub);
    const b = await drain(sub2);
    expect(a.map(label)).toEqual(rows.map((r) => r[2]));
    expect(b.map((r) => r.line)).toEqual(a.map((r) => r.line));
  });

  test("SessionEnd by id from another pid, and for an unknown id: removal / nothing (§6.6)", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    await step(h, "hook_event", hookData("end-me", pid, "SessionStart"));
    // An unknown id with an unknown pid: nothing at all.
    const none = await step(h, "hook_event", hookData("never-seen", 3_999_999, "SessionEnd"));
    expect([none.replies, none.events]).toEqual([[], []]);
    // The known id, no pid: removed by id.
    const r = await step(h, "hook_event", hookData("end-me", undefined, "SessionEnd"));
    expect(r.replies).toEqual([]);
    expect(r.events.map((e) => e.m)).toEqual([{ type: "session_removed", session_id: "end-me" }]);
    expect(await list(h.tx)).toEqual([]);
    // DAEMON.md §9: both show at info level, with pid and reason, and no payload.
    expect(h.d.stderr()).toMatch(new RegExp(`INFO session end-me created \\(pid ${pid}, from hook\\)\n`));
    expect(h.d.stderr()).toMatch(new RegExp(`INFO session end-me removed \\(pid ${pid}, ended\\)\n`));
  });
});

describe("SessionView of the §5.5 status line (SESSIONS.md §5.5, §7.1, §7.2, §15; PROTOCOL.md §3.4)", () => {
  test("keys, order, JSON types and values equal the spec's example", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    const root = dir("atmd-view-");
    const proj = join(root, "proj");
    mkdirSync(proj);
    git(proj, "init", "-q", "-b", "main");
    const sid = "8e11bfb5-7dc2-432b-9206-928fa5c35731";
    const data = {
      session_id: sid,
      cwd: proj,
      model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
      version: "2.0.76",
      cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
      context_window: {
        total_input_tokens: 50000,
        total_output_tokens: 10000,
        context_window_size: 200000,
        current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 },
      },
      pid,
      tmux_pane: "%5",
    };
    const r = await step(h, "status_update", data);
    expect(r.replies).toEqual([]);
    expect(r.events.length).toBe(1);
    const e = r.events[0] as Raw;
    const v = updated(e);
    expectGoodView(v, e.line);
    const expected: Msg = {
      id: sid,
      id_short: "8e11bfb5",
      agent_type: "main",
      model: "Opus 4.5",
      status: "idle",
      status_label: "idle",
      activity_detail: null,
      should_blink: false,
      status_icon: "-",
      context_percentage: 21.5,
      context_display: "21.5% (43K/200K)",
      context_warning: false,
      context_critical: false,
      cost_display: "$0.35",
      cost_usd: 0.35,
      duration_display: "2m 15s",
      duration_seconds: 135,
      lines_display: "+150 -30",
      working_directory: shorten(proj),
      needs_attention: false,
      last_activity_display: "0s ago",
      age_display: "0s ago",
      started_at: v.started_at,
      last_activity: v.last_activity,
      tmux_pane: "%5",
      project_root: proj,
      worktree_path: proj,
      worktree_branch: "main",
      harness: "claude",
    };
    expect(v).toEqual(expected);
    expect(Object.keys(v)).toEqual(Object.keys(expected)); // wire order of §7.1
    expect((v.started_at as string).length).toBe(35);
    // Raw bytes: compact, whole floats without a decimal point, omitted keys really omitted.
    expect(e.line).toContain('"context_percentage":21.5,');
    expect(e.line).toContain('"cost_usd":0.35,');
    expect(e.line).toContain('"duration_seconds":135,');
    expect(e.line).toContain('"activity_detail":null,');
    expect(e.line).not.toContain(": ");
    for (const k of ["parent_session_id", "child_session_ids", "first_prompt"]) expect(e.line).not.toContain(`"${k}"`);
    // list_sessions returns the same view (apart from relative times).
    expect(stripTime(await list(h.tx))).toEqual(stripTime([v]));

    // §5.5 second line: only cost changes; lines drop to 0; context kept; status working (no hooks).
    const r2 = await step(h, "status_update", { session_id: sid, pid, cost: { total_cost_usd: 0.5, total_duration_ms: 200000 } });
    expect(r2.replies).toEqual([]);
    const v2 = updated(r2.events[0] as Raw);
    expect(r2.events.length).toBe(1);
    expect({
      cost_display: v2.cost_display,
      cost_usd: v2.cost_usd,
      duration_display: v2.duration_display,
      duration_seconds: v2.duration_seconds,
      lines_display: v2.lines_display,
      context_display: v2.context_display,
      status: v2.status,
      status_label: v2.status_label,
      status_icon: v2.status_icon,
      model: v2.model,
      tmux_pane: v2.tmux_pane,
      worktree_branch: v2.worktree_branch,
      started_at: v2.started_at,
    }).toEqual({
      cost_display: "$0.50",
      cost_usd: 0.5,
      duration_display: "3m 20s",
      duration_seconds: 200,
      lines_display: "+0 -0",
      context_display: "21.5% (43K/200K)",
      status: "working",
      status_label: "working",
      status_icon: ">",
      model: "Opus 4.5",
      tmux_pane: "%5",
      worktree_branch: "main",
      started_at: v.started_at,
    });
    expect((v2.last_activity as string) >= (v.last_activity as string)).toBe(true);
  });
});

describe("liveness (SESSIONS.md §13)", () => {
  test("a killed child process's session is removed within 5 s; an unverified one stays", async () => {
    const h = await harness();
    const child = sleeper();
    const c = await step(h, "hook_event", hookData("doomed", child.pid, "SessionStart", { tmux_pane: "%3" }));
    expect(c.events.length).toBe(1);
    const u = await step(h, "status_update", { session_id: "unverified-1", pid: 3_100_000, model: MODEL });
    expect(u.events.length).toBe(1);
    const t0 = performance.now();
    child.kill("SIGKILL");
    await child.exited;
    const seen = await rawUntil(h.sub, (m) => m.type === "session_removed", 8000);
    const elapsed = performance.now() - t0;
    expect(seen.map((r) => r.m)).toEqual([{ type: "session_removed", session_id: "doomed" }]);
    expect(elapsed).toBeLessThan(5000);
    expect((await list(h.tx)).map((s) => s.id)).toEqual(["unverified-1"]);
  });
});

describe("git project and branch (SESSIONS.md §11)", () => {
  test("project_root/worktree_branch show up; git checkout -b is seen by the 5 s refresh", async () => {
    const h = await harness();
    const root = dir("atmd-git-");
    const repo = join(root, "repo");
    mkdirSync(join(repo, "sub"), { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "sub", "a.txt"), "a\n");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "first");
    git(repo, "checkout", "-q", "-b", "feature/login");
    git(repo, "worktree", "add", "-q", "-b", "wt-branch", join(root, "wt"));
    const pidTop = sleeper().pid;
    const pidSub = sleeper().pid;
    const pidWt = sleeper().pid;

    const top = updated((await step(h, "status_update", { session_id: "git-top", pid: pidTop, model: MODEL, cwd: repo })).events[0] as Raw);
    expect([top.project_root, top.worktree_path, top.worktree_branch]).toEqual([repo, repo, "feature/login"]);

    // Hook-created session: project from the hook's cwd (§6.4); below the top → no worktree keys.
    const subEv = (await step(h, "hook_event", hookData("git-sub", pidSub, "SessionStart", { cwd: join(repo, "sub") }))).events;
    expect(subEv.length).toBe(1);
    const sub = updated(subEv[0] as Raw);
    expect(sub.project_root).toBe(repo);
    expect("worktree_path" in sub || "worktree_branch" in sub).toBe(false);

    // Linked worktree: project_root is the main checkout.
    const wt = updated((await step(h, "status_update", { session_id: "git-wt", pid: pidWt, model: MODEL, cwd: join(root, "wt") })).events[0] as Raw);
    expect([wt.project_root, wt.worktree_path, wt.worktree_branch]).toEqual([repo, join(root, "wt"), "wt-branch"]);

    const t0 = performance.now();
    git(repo, "checkout", "-q", "-b", "other");
    const seen = await rawUntil(h.sub, (m) => m.type === "session_updated" && (m.session as Msg).id === "git-top", 8000);
    const elapsed = performance.now() - t0;
    const v = updated(seen[seen.length - 1] as Raw);
    expect([v.project_root, v.worktree_path, v.worktree_branch]).toEqual([repo, repo, "other"]);
    expect(elapsed).toBeLessThan(6500);
    // Only the changed session is published (§11 "only for sessions where one of the three values changed").
    expect(seen.map((r) => (r.m.session as Msg | undefined)?.id)).toEqual(["git-top"]);
    // The refresh does not change last_activity (§11).
    expect(v.last_activity).toBe(top.last_activity);
  });
});

describe("rename and move (SESSIONS.md §3.2, §3.3; PROTOCOL.md §12.5)", () => {
  test("status line with a new id for a known pid: session_removed A immediately followed by session_updated B, state kept", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    await step(h, "status_update", { session_id: "id-A", pid, model: MODEL, cost: { total_cost_usd: 1.5, total_duration_ms: 60000 }, tmux_pane: "%9" });
    await step(h, "hook_event", hookData("id-A", pid, "UserPromptSubmit", { prompt: "hello" }));
    const before = (await list(h.tx))[0] as Msg;
    // Noise from another connection while the rename happens.
    const noise = await h.d.client("noise");
    const noisePid = 3_200_000;
    for (let i = 0; i < 300; i++) noise.request("status_update", { data: { session_id: "noise", pid: noisePid, model: MODEL, cost: { total_cost_usd: i, total_duration_ms: i } } });
    h.tx.request("status_update", { data: { session_id: "id-B", pid, model: MODEL } });
    expect(await drain(h.tx)).toEqual([]);
    expect(await drain(noise)).toEqual([]);
    const events = (await drain(h.sub)).map((r) => r.m);
    const i = events.findIndex((m) => m.type === "session_removed");
    expect(i).toBeGreaterThanOrEqual(0);
    expect(events[i]).toEqual({ type: "session_removed", session_id: "id-A" });
    const next = events[i + 1] as Msg;
    expect(next.type).toBe("session_updated");
    expect((next.session as Msg).id).toBe("id-B");
    expect(events.filter((m) => m.type === "session_removed").length).toBe(1);
    expect(events.filter((m) => m.type === "session_updated" && (m.session as Msg).id !== "noise").length).toBe(1);
    const b = next.session as Msg;
    expect({ started_at: b.started_at, cost: b.cost_display, status: b.status, first_prompt: b.first_prompt, tmux: b.tmux_pane }).toEqual({
      started_at: before.started_at,
      cost: "$1.50",
      status: "working",
      first_prompt: "hello",
      tmux: "%9",
    });
    expect((await list(h.tx)).map((s) => s.id).sort()).toEqual(["id-B", "noise"]);
    noise.close();
  });

  test("hook with another id for a pid held by a real session: applied to it, no rename (§3.2 row 4)", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    await step(h, "hook_event", hookData("outer", pid, "SessionStart"));
    const r = await step(h, "hook_event", hookData("nested", pid, "PreToolUse", { tool_name: "Grep" }));
    expect(r.replies).toEqual([]);
    expect(r.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    const v = updated(r.events[0] as Raw);
    expect([v.id, v.status, v.activity_detail]).toEqual(["outer", "working", "Grep"]);
    expect((await list(h.tx)).map((s) => s.id)).toEqual(["outer"]);
  });

  test("known id from another pid moves (no duplicate); the old pid's death no longer matters (§3.2 row 5, §13)", async () => {
    const h = await harness();
    const p1 = sleeper();
    const p2 = sleeper();
    await step(h, "status_update", { session_id: "mover", pid: p1.pid, model: MODEL, tmux_pane: "%1" });
    const r = await step(h, "hook_event", hookData("mover", p2.pid, "UserPromptSubmit", { prompt: "x" }));
    expect(r.replies).toEqual([]);
    expect(r.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    const v = updated(r.events[0] as Raw);
    expect([v.id, v.status, v.tmux_pane]).toEqual(["mover", "working", null]); // pane cleared on move
    const l = await list(h.tx);
    expect(l.map((s) => s.id)).toEqual(["mover"]);
    // Same with a status line carrying a pane: replaced by the message's pane.
    const p3 = sleeper();
    const r2 = await step(h, "status_update", { session_id: "mover", pid: p3.pid, model: MODEL, tmux_pane: "%3" });
    expect(r2.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    expect(updated(r2.events[0] as Raw).tmux_pane).toBe("%3");
    expect((await list(h.tx)).map((s) => s.id)).toEqual(["mover"]);

    // Kill the old pids, then a sentinel; once the sentinel is gone, "mover" must still be there.
    p1.kill("SIGKILL");
    p2.kill("SIGKILL");
    await Promise.all([p1.exited, p2.exited]);
    const sentinel = sleeper();
    await step(h, "status_update", { session_id: "sentinel", pid: sentinel.pid, model: MODEL });
    sentinel.kill("SIGKILL");
    await sentinel.exited;
    const seen = await rawUntil(h.sub, (m) => m.type === "session_removed", 8000);
    expect(seen.map((x) => x.m)).toEqual([{ type: "session_removed", session_id: "sentinel" }]);
    expect((await list(h.tx)).map((s) => s.id)).toEqual(["mover"]);
  });

  test("known id at a pid held by another session: that one is displaced first (§3.2 row 6)", async () => {
    const h = await harness();
    const p1 = sleeper().pid;
    const p2 = sleeper().pid;
    await step(h, "status_update", { session_id: "A", pid: p1, model: MODEL });
    await step(h, "status_update", { session_id: "B", pid: p2, model: MODEL });
    const r = await step(h, "status_update", { session_id: "A", pid: p2, model: MODEL });
    expect(r.replies).toEqual([]);
    expect(r.events.map((e) => (e.m.type === "session_removed" ? `removed ${String(e.m.session_id)}` : `updated ${String((e.m.session as Msg).id)}`))).toEqual(["removed B", "updated A"]);
    expect((await list(h.tx)).map((s) => s.id)).toEqual(["A"]);
    // And p1 is free again: a new id there creates a second session, not a rename of A.
    const c = await step(h, "status_update", { session_id: "C", pid: p1, model: MODEL });
    expect(c.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    expect((await list(h.tx)).map((s) => s.id).sort()).toEqual(["A", "C"]);
  });

  test("a discovered pending-<pid> session is renamed by its first hook (§3.2 row 4, §12.3)", async () => {
    const h = await harness();
    // A process whose command name is `claude` (§12.1 rule 1), started through a shell that exits so
    // that no Claude process is among its ancestors.
    const bin = join(dir("atmd-fake-claude-"), "claude");
    copyFileSync("/bin/sleep", bin);
    const r = Bun.spawnSync(["sh", "-c", `"${bin}" 120 >/dev/null 2>&1 & echo $!`], { stdout: "pipe" });
    const pid = Number(r.stdout.toString().trim());
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    detachedPids.push(pid);
    h.tx.request("discover");
    const reply = await h.tx.expect("discovery_complete", 15_000);
    expect(reply.discovered as number).toBeGreaterThanOrEqual(1);
    const pendingId = `pending-${pid}`;
    const ev = await drain(h.sub);
    expect(ev.some((e) => e.m.type === "session_updated" && (e.m.session as Msg).id === pendingId)).toBe(true);
    const pend = ev.map((e) => e.m).find((m) => (m.session as Msg | undefined)?.id === pendingId)?.session as Msg;
    expect([pend.model, pend.status, pend.id_short, pend.started_at === pend.last_activity]).toEqual(["Unknown", "idle", "pending-", true]);

    const rn = await step(h, "hook_event", hookData("real-id", pid, "UserPromptSubmit", { prompt: "go" }));
    expect(rn.replies).toEqual([]);
    expect(rn.events.map((e) => e.m.type)).toEqual(["session_removed", "session_updated"]);
    expect(rn.events[0]?.m).toEqual({ type: "session_removed", session_id: pendingId });
    const v = updated(rn.events[1] as Raw);
    expect([v.id, v.status, v.first_prompt, v.started_at]).toEqual(["real-id", "working", "go", pend.started_at]);
    // A second discover leaves it alone (§12.3: tracked pid skipped).
    h.tx.request("discover");
    await h.tx.expect("discovery_complete", 15_000);
    const ids = (await list(h.tx)).map((s) => s.id as string);
    expect(ids).toContain("real-id");
    expect(ids).not.toContain(pendingId);
    process.kill(pid, "SIGKILL");
  });
});

describe("session cap (SESSIONS.md §4; PROTOCOL.md §9.3)", () => {
  test("ATM_MAX_SESSIONS=3: the 4th creation by status_update and by hook_event gets exactly registry_full", async () => {
    const h = await harness({ ATM_MAX_SESSIONS: "3" });
    for (let i = 0; i < 3; i++) {
      const r = await step(h, "status_update", { session_id: `cap-${i}`, pid: 3_300_000 + i, model: MODEL });
      expect(r.replies).toEqual([]);
      expect(r.events.length).toBe(1);
    }
    const FULL = errorLine("Registry error: registry is full (max: 3 sessions)", "registry_full");
    const s = await step(h, "status_update", { session_id: "cap-3", pid: 3_300_003, model: MODEL });
    expect(s.replies.map((r) => r.line)).toEqual([FULL]);
    expect(s.events).toEqual([]);
    const k = await step(h, "hook_event", hookData("cap-4", 3_300_004, "SessionStart"));
    expect(k.replies.map((r) => r.line)).toEqual([FULL]);
    expect(k.events).toEqual([]);
    // A new pid without a model is ignored silently even when full (§5.2 step 4).
    const nm = await step(h, "status_update", { session_id: "cap-5", pid: 3_300_005 });
    expect([nm.replies, nm.events]).toEqual([[], []]);
    // Updates, renames and moves do not count against the cap.
    const up = await step(h, "hook_event", hookData("cap-0", 3_300_000, "UserPromptSubmit"));
    expect([up.replies.length, up.events.length]).toEqual([0, 1]);
    const rn = await step(h, "status_update", { session_id: "cap-1-renamed", pid: 3_300_001, model: MODEL });
    expect([rn.replies.length, rn.events.map((e) => e.m.type)]).toEqual([0, ["session_removed", "session_updated"]]);
    const mv = await step(h, "status_update", { session_id: "cap-2", pid: 3_300_009, model: MODEL });
    expect([mv.replies.length, mv.events.map((e) => e.m.type)]).toEqual([0, ["session_updated"]]);
    expect((await list(h.tx)).map((x) => x.id).sort()).toEqual(["cap-0", "cap-1-renamed", "cap-2"]);
    const st = await stats(h.tx);
    expect([st.sessions, st.max_sessions]).toEqual([3, 3]);
  });
});

describe("hostile input (SESSIONS.md §5.1, §5.2, §6.1; PROTOCOL.md §9.3, §12.7)", () => {
  const big = "x".repeat(500 * 1024);
  const bigCjk = "日本語テキスト".repeat(Math.ceil((500 * 1024) / 21)); // ≈ 500 KiB of 3-byte code points

  // Messages that must be rejected: exactly one parse_error each, nothing changes.
  const REJECTED: [string, "status_update" | "hook_event", unknown, string?][] = [
    ["su data null", "status_update", null, "Parse error: Missing session_id"],
    ["su data array", "status_update", ["s", 1], "Parse error: Missing session_id"],
    ["su data string", "status_update", "s", "Parse error: Missing session_id"],
    ["su data number", "status_update", 42, "Parse error: Missing session_id"],
    ["su data {}", "status_update", {}, "Parse error: Missing session_id"],
    ["su session_id number", "status_update", { session_id: 7, pid: 3_400_000, model: MODEL }, "Parse error: Missing session_id"],
    ["su session_id null", "status_update", { session_id: null, pid: 3_400_000, model: MODEL }, "Parse error: Missing session_id"],
    ["su pid -1", "status_update", { session_id: "base", pid: -1, model: MODEL }],
    ["su pid 2^32", "status_update", { session_id: "base", pid: 4294967296, model: MODEL }],
    ["su pid 1e300", "status_update", { session_id: "base", pid: 1e300, model: MODEL }],
    ["su pid 1.5", "status_update", { session_id: "base", pid: 1.5, model: MODEL }],
    ["su pid string", "status_update", { session_id: "base", pid: "123", model: MODEL }],
    ["su pid array", "status_update", { session_id: "base", pid: [1], model: MODEL }],
    ["su model {}", "status_update", { session_id: "base", model: {} }, "Registry error: parse error: missing field `id`"],
    ["su model string", "status_update", { session_id: "base", model: "opus" }],
    ["su model.id number", "status_update", { session_id: "base", model: { id: 5 } }],
    ["su model array", "status_update", { session_id: "base", model: ["claude-opus-4-5"] }],
    ["su cost string usd", "status_update", { session_id: "base", cost: { total_cost_usd: "x", total_duration_ms: 1 } }],
    ["su cost missing usd", "status_update", { session_id: "base", cost: { total_duration_ms: 1 } }],
    ["su cost missing duration", "status_update", { session_id: "base", cost: { total_cost_usd: 1 } }],
    ["su cost duration -5", "status_update", { session_id: "base", cost: { total_cost_usd: 1, total_duration_ms: -5 } }],
    ["su cost duration 2^53", "status_update", { session_id: "base", cost: { total_cost_usd: 1, total_duration_ms: 9007199254740992 } }],
    ["su cost duration 1.5", "status_update", { session_id: "base", cost: { total_cost_usd: 1, total_duration_ms: 1.5 } }],
    ["su cost lines string", "status_update", { session_id: "base", cost: { total_cost_usd: 1, total_duration_ms: 1, total_lines_added: "3" } }],
    ["su cost array", "status_update", { session_id: "base", cost: [1, 2] }],
    ["su cost number", "status_update", { session_id: "base", cost: 3 }],
    ["su ctx array", "status_update", { session_id: "base", context_window: [] }],
    ["su ctx size 2^32", "status_update", { session_id: "base", context_window: { context_window_size: 4294967296 } }],
    ["su ctx size -1", "status_update", { session_id: "base", context_window: { context_window_size: -1 } }],
    ["su ctx tokens -1", "status_update", { session_id: "base", context_window: { total_input_tokens: -1 } }],
    ["su usage -1", "status_update", { session_id: "base", context_window: { current_usage: { input_tokens: -1 } } }],
    ["su usage string", "status_update", { session_id: "base", context_window: { current_usage: "lots" } }],
    ["su cwd number", "status_update", { session_id: "base", cwd: 5 }],
    ["su tmux_pane object", "status_update", { session_id: "base", tmux_pane: {} }],
    ["su version number", "status_update", { session_id: "base", version: 2 }],
    ["he data null", "hook_event", null],
    ["he data array", "hook_event", ["base", "Stop"]],
    ["he data string", "hook_event", "Stop"],
    ["he data true", "hook_event", true],
    ["he data {}", "hook_event", {}],
    ["he no name", "hook_event", { session_id: "base", pid: 3_400_001 }, "Parse error: missing field `hook_event_name`"],
    ["he name number", "hook_event", { session_id: "base", hook_event_name: 5 }],
    ["he name null", "hook_event", { session_id: "base", hook_event_name: null }],
    ["he no session_id", "hook_event", { hook_event_name: "Stop", pid: 3_400_001 }],
    ["he session_id array", "hook_event", { session_id: ["base"], hook_event_name: "Stop" }],
    ["he pid -1", "hook_event", { session_id: "base", hook_event_name: "Stop", pid: -1 }],
    ["he pid 2^32", "hook_event", { session_id: "base", hook_event_name: "Stop", pid: 4294967296 }],
    ["he pid 1e308", "hook_event", { session_id: "base", hook_event_name: "Stop", pid: 1e308 }],
    ["he pid 0.5", "hook_event", { session_id: "base", hook_event_name: "Stop", pid: 0.5 }],
    ["he pid string", "hook_event", { session_id: "base", hook_event_name: "Stop", pid: "1" }],
    ["he unknown name, tool_name number (validated first, §6.2)", "hook_event", { session_id: "base", hook_event_name: "MessageDisplay", tool_name: 5 }],
    ["he tool_name number", "hook_event", { session_id: "base", hook_event_name: "PreToolUse", tool_name: 5 }],
    ["he prompt number", "hook_event", { session_id: "base", hook_event_name: "UserPromptSubmit", prompt: 5 }],
    ["he prompt array", "hook_event", { session_id: "base", hook_event_name: "UserPromptSubmit", prompt: [big.slice(0, 10)] }],
    ["he tmux_pane array", "hook_event", { session_id: "base", hook_event_name: "Stop", tmux_pane: [] }],
    ["he cwd object", "hook_event", { session_id: "base", hook_event_name: "Stop", cwd: {} }],
    ["he notification_type number", "hook_event", { session_id: "base", hook_event_name: "Notification", notification_type: 1 }],
    ["he agent_id number", "hook_event", { session_id: "base", hook_event_name: "SubagentStart", agent_id: 1 }],
    ["he agent_type bool", "hook_event", { session_id: "base", hook_event_name: "SubagentStart", agent_id: "a", agent_type: false }],
    ["he wrong type + 500 KiB prompt", "hook_event", { session_id: "base", hook_event_name: "UserPromptSubmit", pid: -1, prompt: big }],
  ];

  test("each rejected message gets exactly one parse_error; registry and subscribers unchanged", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    await step(h, "status_update", {
      session_id: "base",
      pid,
      model: MODEL,
      cwd: "/tmp",
      cost: { total_cost_usd: 1.25, total_duration_ms: 61000, total_lines_added: 3, total_lines_removed: 1 },
      context_window: { context_window_size: 200000, current_usage: { input_tokens: 10, cache_read_input_tokens: 42500 } },
    });
    await step(h, "hook_event", hookData("base", pid, "UserPromptSubmit", { prompt: "keep me" }));
    const before = stripTime(await list(h.tx));
    const st0 = counters(await stats(h.tx));
    const problems: string[] = [];
    for (const [name, type, data, exact] of REJECTED) {
      const r = await step(h, type, data);
      const replies = r.replies.map((x) => x.m);
      if (replies.length !== 1 || replies[0]?.type !== "error" || replies[0]?.code !== "parse_error") {
        problems.push(`${name}: expected one parse_error, got ${JSON.stringify(replies).slice(0, 300)}`);
      } else {
        const message = replies[0]?.message as string;
        const prefix = type === "status_update" ? /^(Parse error: Missing session_id|Registry error: parse error: .+)$/ : /^Parse error: .+$/;
        if (!prefix.test(message)) problems.push(`${name}: message ${JSON.stringify(message)} lacks the spec's prefix`);
        if (exact !== undefined && message !== exact) problems.push(`${name}: message ${JSON.stringify(message)} ≠ ${JSON.stringify(exact)}`);
      }
      if (r.events.length !== 0) problems.push(`${name}: broadcast ${JSON.stringify(r.events.map((e) => e.m)).slice(0, 300)}`);
    }
    expect(problems).toEqual([]);
    expect(stripTime(await list(h.tx))).toEqual(before);
    const st1 = counters(await stats(h.tx));
    // Rejected messages count as errors, not as processed updates/events (PROTOCOL.md §13).
    expect(st1.errors_sent).toBe((st0.errors_sent as number) + REJECTED.length);
    expect([st1.status_updates, st1.hook_events, st1.sessions_created]).toEqual([st0.status_updates, st0.hook_events, st0.sessions_created]);
    expect(h.d.proc.exitCode).toBeNull();
  });

  test("odd but valid values are accepted without an error, produce finite views, and touch only their own sessions", async () => {
    const h = await harness();
    const pid = sleeper().pid;
    await step(h, "status_update", { session_id: "base", pid, model: MODEL, cost: { total_cost_usd: 2, total_duration_ms: 1000 } });
    const before = stripTime(await list(h.tx));
    let n = 3_500_000;
    // [name, type, data, check of the resulting view]
    const ACCEPTED: [string, "status_update" | "hook_event", Msg, (v: Msg) => void][] = [
      ["cost 1e308 (product overflows to Infinity → clamped)", "status_update", { session_id: "huge-cost", pid: ++n, model: MODEL, cost: { total_cost_usd: 1e308, total_duration_ms: 9007199254740991 } }, (v) => {
        expect(v.cost_usd).toBe(9223372036854.775);
        expect(v.cost_display).toBe("$9223372036855");
      }],
      ["cost -1e308", "status_update", { session_id: "neg-cost", pid: ++n, model: MODEL, cost: { total_cost_usd: -1e308, total_duration_ms: 0 } }, (v) => {
        expect(v.cost_usd).toBe(-9223372036854.775);
      }],
      ["cost 5e-324", "status_update", { session_id: "tiny-cost", pid: ++n, model: MODEL, cost: { total_cost_usd: 5e-324, total_duration_ms: 0 } }, (v) => {
        expect([v.cost_usd, v.cost_display]).toEqual([0, "$0.00"]);
      }],
      ["window 0 with tokens (0/0 must not be NaN)", "status_update", { session_id: "zero-window", pid: ++n, model: MODEL, context_window: { context_window_size: 0, current_usage: { input_tokens: 1250 } } }, (v) => {
        expect([v.context_percentage, v.context_display]).toEqual([0, "0.0% (1.2K/0)"]);
      }],
      ["huge token counts", "status_update", { session_id: "huge-tokens", pid: ++n, model: MODEL, context_window: { context_window_size: 4294967295, current_usage: { input_tokens: 9007199254740991, cache_read_input_tokens: 9007199254740991, cache_creation_input_tokens: 9007199254740991 } } }, (v) => {
        expect(v.context_percentage).toBe(100);
      }],
      ["null members = absent", "status_update", { session_id: "nulls", pid: ++n, model: MODEL, cwd: null, version: null, tmux_pane: null, cost: { total_cost_usd: 0.125, total_duration_ms: 1500, total_api_duration_ms: null, total_lines_added: null, total_lines_removed: null }, context_window: { total_input_tokens: null, context_window_size: null, current_usage: null } }, (v) => {
        expect([v.cost_display, v.duration_seconds, v.lines_display, v.working_directory, v.tmux_pane]).toEqual(["$0.12", 1.5, "+0 -0", null, null]);
      }],
      ["ignored fields of any type", "status_update", { session_id: "ignored", pid: ++n, model: MODEL, transcript_path: 5, workspace: "x", exceeds_200k_tokens: "yes", rate_limits: [null], output_style: { name: 1 }, context_window: { used_percentage: "NaN", remaining_percentage: null } }, (v) => {
        expect(v.status).toBe("idle");
      }],
      ["whole numbers written as floats", "status_update", { session_id: "floats", pid: (++n) + 0.0, model: MODEL, cost: { total_cost_usd: 1, total_duration_ms: 1e3 } }, (v) => {
        expect(v.duration_display).toBe("1s");
      }],
      ["max usable pid", "status_update", { session_id: "max-pid", pid: 4294967295, model: MODEL }, (v) => {
        expect(v.id).toBe("max-pid");
      }],
      ["empty session id", "status_update", { session_id: "", pid: ++n, model: MODEL }, (v) => {
        expect([v.id, v.id_short]).toEqual(["", ""]);
      }],
      ["500 KiB ASCII prompt", "hook_event", { session_id: "big-prompt", hook_event_name: "UserPromptSubmit", pid: ++n, prompt: big }, (v) => {
        expect(v.first_prompt).toBe("x".repeat(500));
      }],
      ["500 KiB CJK prompt", "hook_event", { session_id: "big-cjk", hook_event_name: "UserPromptSubmit", pid: ++n, prompt: bigCjk }, (v) => {
        expect([...(v.first_prompt as string)].length).toBe(500);
        expect(bigCjk.startsWith(v.first_prompt as string)).toBe(true);
      }],
      ["500 KiB cwd", "hook_event", { session_id: "big-cwd", hook_event_name: "SessionStart", pid: ++n, cwd: `/${big}` }, (v) => {
        expect(v.working_directory).toBe(`...${"x".repeat(27)}`);
        expect("project_root" in v).toBe(false);
      }],
      ["500 KiB tool name", "hook_event", { session_id: "big-tool", hook_event_name: "PreToolUse", pid: ++n, tool_name: big }, (v) => {
        expect(v.status).toBe("working");
      }],
      ["other fields of any type", "hook_event", { session_id: "any-fields", hook_event_name: "StopFailure", pid: ++n, error: { code: 1 }, new_cwd: 5, tool_input: null, tool_response: [1], stop_hook_active: "no", permission_mode: 3, source: null, model: 5 }, (v) => {
        expect([v.status, v.activity_detail]).toEqual(["idle", "API error: unknown"]);
      }],
      ["non-ASCII id", "hook_event", { session_id: "日本語のセッションID12345", hook_event_name: "SessionStart", pid: ++n, cwd: "/home/u/é/日本語のプロジェクト/ソース/コンポーネント" }, (v) => {
        expect([v.id_short, v.working_directory]).toEqual(["日本語のセッショ", ".../u/é/日本語のプロジェクト/ソース/コンポーネント"]);
      }],
    ];
    const created: string[] = [];
    const problems: string[] = [];
    for (const [name, type, data, check] of ACCEPTED) {
      const r = await step(h, type, data);
      if (r.replies.length !== 0) problems.push(`${name}: unexpected reply ${JSON.stringify(r.replies.map((x) => x.m)).slice(0, 300)}`);
      if (r.events.length !== 1 || r.events[0]?.m.type !== "session_updated") {
        problems.push(`${name}: expected one session_updated, got ${JSON.stringify(r.events.map((x) => x.m.type))}`);
        continue;
      }
      const e = r.events[0] as Raw;
      const v = e.m.session as Msg;
      created.push(v.id as string);
      const vp = [...viewProblems(v), ...rawProblems(e.line)];
      if (vp.length) problems.push(`${name}: ${vp.join("; ")}`);
      try {
        check(v);
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message.split("\n").slice(0, 6).join(" ")}`);
      }
    }
    // Ignored: unknown session without a usable pid (pid 0, null, absent), unknown hook name.
    for (const data of [
      { session_id: "ghost", pid: 0, model: MODEL },
      { session_id: "ghost", pid: null, model: MODEL },
      { session_id: "ghost", model: MODEL },
    ]) {
      const r = await step(h, "status_update", data);
      if (r.replies.length || r.events.length) problems.push(`ignored status_update ${JSON.stringify(data)} produced output`);
    }
    for (const data of [
      hookData("ghost", 0, "Stop"),
      hookData("ghost", undefined, "PreToolUse", { tool_name: "Bash" }),
      hookData("ghost", 3_599_999, "TotallyNewEvent"),
      hookData("base", pid, "MessageDisplay", { tool_input: 5, message: null }),
    ]) {
      const r = await step(h, "hook_event", data);
      if (r.replies.length || r.events.length) problems.push(`ignored hook_event ${JSON.stringify(data)} produced output`);
    }
    expect(problems).toEqual([]);
    const afterFull = await list(h.tx);
    const after = stripTime(afterFull);
    // "base" unchanged apart from last_activity (the unknown hook event refreshes it, §6.5).
    const strip = (s: Msg[]) => s.map(({ last_activity: _la, ...rest }) => rest);
    expect(strip(after.filter((s) => s.id === "base"))).toEqual(strip(before));
    expect(after.map((s) => s.id as string).sort()).toEqual(["base", ...created].sort());
    for (const s of afterFull) expect({ id: s.id, problems: viewProblems(s) }).toEqual({ id: s.id, problems: [] });
    expect(h.d.proc.exitCode).toBeNull();
  });
});

describe("subagent correlation (SESSIONS.md §14, §3.3)", () => {
  test("SubagentStart in a parent, then a hook-created session in a child process: linked, both broadcast", async () => {
    const h = await harness();
    // parent: a shell; child: its background sleep.
    const sh = Bun.spawn(["sh", "-c", "sleep 300 & echo $!; wait"], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    spawned.push(sh);
    const reader = sh.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    const childPid = Number(new TextDecoder().decode(first.value).trim());
    expect(childPid > 0).toBe(true);
    detachedPids.push(childPid);

    await step(h, "hook_event", hookData("parent", sh.pid, "SessionStart", { tmux_pane: "%2" }));
    const s = await step(h, "hook_event", hookData("parent", sh.pid, "SubagentStart", { agent_id: "agent-1", agent_type: "Explore" }));
    expect(s.events.map((e) => e.m.type)).toEqual(["session_updated"]);
    expect([updated(s.events[0] as Raw).status, updated(s.events[0] as Raw).activity_detail]).toEqual(["working", null]);

    const c = await step(h, "hook_event", hookData("child", childPid, "SessionStart"));
    expect(c.replies).toEqual([]);
    const order = c.events.map((e) => `${String(e.m.type)} ${String((e.m.session as Msg | undefined)?.id)}`);
    expect(order).toEqual(["session_updated child", "session_updated parent", "session_updated child"]);
    for (const e of c.events) expectGoodView(e.m.session as Msg, e.line);
    const parent = updated(c.events[1] as Raw);
    const child = updated(c.events[2] as Raw);
    expect(parent.child_session_ids).toEqual(["child"]);
    expect("parent_session_id" in parent).toBe(false);
    expect([child.parent_session_id, child.agent_type]).toEqual(["parent", "explore"]);
    expect("child_session_ids" in child).toBe(false);
    expect("parent_session_id" in updated(c.events[0] as Raw)).toBe(false);

    // The parent ends: removed, then the child is published without its parent (§14.4).
    const end = await step(h, "hook_event", hookData("parent", sh.pid, "SessionEnd"));
    expect(end.events.map((e) => e.m.type)).toEqual(["session_removed", "session_updated"]);
    expect(end.events[0]?.m).toEqual({ type: "session_removed", session_id: "parent" });
    const orphan = updated(end.events[1] as Raw);
    expect(orphan.id).toBe("child");
    expect("parent_session_id" in orphan).toBe(false);
  });

  test("never self-linked; SubagentStop drops the entry; status-line creation is not correlated", async () => {
    const h = await harness();
    const sh = Bun.spawn(["sh", "-c", "sleep 300 & echo $!; sleep 300 & echo $!; wait"], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    spawned.push(sh);
    const reader = sh.stdout.getReader();
    let text = "";
    const deadline = performance.now() + 5000;
    while (text.trim().split("\n").length < 2 && performance.now() < deadline) {
      const r = await reader.read();
      if (r.done) break;
      text += new TextDecoder().decode(r.value);
    }
    reader.releaseLock();
    const [c1, c2] = text.trim().split("\n").map(Number) as [number, number];
    detachedPids.push(c1, c2);

    // A session created by its own SubagentStart (its pid is the parent_pid): never linked to itself.
    const self = await step(h, "hook_event", hookData("selfish", sh.pid, "SubagentStart", { agent_id: "s1" }));
    expect(self.events.length).toBe(1);
    const sv = updated(self.events[0] as Raw);
    expect(["parent_session_id" in sv, "child_session_ids" in sv, sv.status]).toEqual([false, false, "working"]);

    // SubagentStop removes the pending entry: the next child is not linked.
    await step(h, "hook_event", hookData("selfish", sh.pid, "SubagentStop", { agent_id: "s1" }));
    const c = await step(h, "hook_event", hookData("kid-1", c1, "SessionStart"));
    expect(c.events.map((e) => (e.m.session as Msg).id)).toEqual(["kid-1"]);
    expect("parent_session_id" in updated(c.events[0] as Raw)).toBe(false);

    // A status-line-created session in a child process is not correlated (§14.2).
    await step(h, "hook_event", hookData("selfish", sh.pid, "SubagentStart", { agent_id: "s2", agent_type: "db-migrator" }));
    const sl = await step(h, "status_update", { session_id: "kid-2", pid: c2, model: MODEL });
    expect(sl.events.map((e) => (e.m.session as Msg).id)).toEqual(["kid-2"]);
    expect("parent_session_id" in updated(sl.events[0] as Raw)).toBe(false);
  });
});

describe("stats counters (PROTOCOL.md §13)", () => {
  test("status_updates, hook_events, unknown_hook_events, sessions_created, sessions_removed move as expected", async () => {
    const h = await harness();
    const s0 = counters(await stats(h.tx));
    expect(s0).toMatchObject({ status_updates: 0, hook_events: 0, unknown_hook_events: 0, sessions_created: 0, sessions_removed: 0 });
    const pid = sleeper().pid;
    await step(h, "status_update", { session_id: "st-1", pid, model: MODEL }); // created
    await step(h, "status_update", { session_id: "st-1", pid, cost: { total_cost_usd: 1, total_duration_ms: 1 } }); // update
    await step(h, "status_update", { session_id: "st-ignored", pid: 3_600_000 }); // no model: ignored, still processed
    await step(h, "status_update", { session_id: "st-1", pid: -1 }); // error: not counted
    await step(h, "hook_event", hookData("st-1", pid, "UserPromptSubmit")); // known
    await step(h, "hook_event", hookData("st-1", pid, "InstructionsLoaded")); // unknown
    await step(h, "hook_event", hookData("st-2", 3_600_001, "SessionStart")); // created
    await step(h, "hook_event", { session_id: "st-2" }); // error: not counted
    await step(h, "status_update", { session_id: "st-1-renamed", pid, model: MODEL }); // rename: neither created nor removed
    await step(h, "hook_event", hookData("st-2", undefined, "SessionEnd")); // removed
    const s1 = await stats(h.tx);
    const c = counters(s1);
    expect({
      status_updates: c.status_updates,
      hook_events: c.hook_events,
      unknown_hook_events: c.unknown_hook_events,
      sessions_created: c.sessions_created,
      sessions_removed: c.sessions_removed,
      errors_sent: c.errors_sent,
      broadcasts: c.broadcasts,
      sessions: s1.sessions,
    }).toEqual({
      status_updates: 4,
      hook_events: 4,
      unknown_hook_events: 1,
      sessions_created: 2,
      sessions_removed: 1,
      errors_sent: 2,
      // created, update, prompt, created st-2, rename pair (2), removal
      broadcasts: 7,
      sessions: 1,
    });
  });
});

describe("memory (issue 4 'Done when')", () => {
  test("RSS of the daemon with 100 sessions and 10 subscribers", async () => {
    const d = await startDaemon();
    const tx = await d.client("rss-tx");
    const st0 = await stats(tx);
    const pid = st0.pid as number;
    const rssIdle = vmRssKiB(pid);
    const subs: LineClient[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await d.client(`rss-sub-${i}`);
      c.request("subscribe");
      await c.expect("session_list", 10_000);
      subs.push(c);
    }
    const full = (i: number, k: number): Msg => ({
      session_id: `rss-${String(i).padStart(3, "0")}-7dc2-432b-9206-928fa5c35731`,
      pid: 3_000_000 + i,
      model: MODEL,
      cwd: `/home/user/projects/project-${i}/src`,
      version: "2.0.76",
      tmux_pane: `%${i}`,
      cost: { total_cost_usd: 0.01 * k, total_duration_ms: 1000 * k, total_api_duration_ms: 500 * k, total_lines_added: k, total_lines_removed: k },
      context_window: { total_input_tokens: 1000 * k, total_output_tokens: 100 * k, context_window_size: 200000, current_usage: { input_tokens: k, output_tokens: k, cache_creation_input_tokens: k, cache_read_input_tokens: 100 * k } },
    });
    const ROUNDS = 10;
    for (let k = 1; k <= ROUNDS; k++) {
      for (let i = 0; i < 100; i++) tx.request("status_update", { data: full(i, k) });
      expect(await drain(tx, 30_000)).toEqual([]);
    }
    for (const c of subs) {
      const got = await drain(c, 30_000);
      expect(got.length).toBe(100 * ROUNDS);
    }
    const st = await stats(tx);
    expect([st.sessions, st.subscribers]).toEqual([100, 10]);
    const rss = vmRssKiB(pid);
    console.log(
      `[rss] daemon pid ${pid}: VmRSS idle ${rssIdle} KiB; with 100 sessions, 10 subscribers after ${100 * ROUNDS} status_updates: ` +
        `${rss} KiB (${(rss / 1024).toFixed(1)} MiB); stats.rss_bytes ${String(st.rss_bytes)}`,
    );
    expect(rss).toBeLessThan(256 * 1024);
    for (const c of subs) c.close();
    tx.close();
  }, 60_000);
});
