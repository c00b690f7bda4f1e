// The reference ATM 0.2.2 TUI (`../shared/reference/bin/atm`) against atmd (SESSIONS.md §15):
// it must show atmd's sessions — ids, models, states — and show them as it shows the reference
// daemon's when both are fed the same messages.
//
// The TUI ignores ATM_SOCKET and always connects to /tmp/atm.sock, and believes a daemon runs only
// when $XDG_STATE_HOME/atm/atmd.pid names a live process. So each daemon gets a temp dir D with
// ATM_SOCKET=D/atm.sock and XDG_STATE_HOME=D/state, and the TUI runs inside tmux in a private mount
// namespace with D bind-mounted over /tmp (../shared/reference/README.md). The machine's /tmp is
// never touched. Skipped, with the reason in the test name, when the reference binaries, tmux,
// unshare or the bind mount are unavailable.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openClient, type LineClient } from "../helpers/client.ts";
import { ROOT, startDaemon, stopAll, tempDir, withTimeout } from "../helpers/daemon.ts";

setDefaultTimeout(60_000);

type Msg = Record<string, unknown>;

const REF_BIN = resolve(ROOT, "../shared/reference/bin");
const REF_TUI = join(REF_BIN, "atm");
const REF_DAEMON = join(REF_BIN, "atmd");

const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanups.splice(0).reverse()) {
    try {
      await f();
    } catch {
      /* best effort */
    }
  }
  await stopAll();
});

// ---- environment probe ------------------------------------------------------------------------

/** The unshare prefix that lets us bind-mount over /tmp, or a reason why none works. */
function probe(): { unshare: string[] } | { reason: string } {
  try {
    accessSync(REF_TUI, constants.X_OK);
  } catch {
    return { reason: `reference TUI not found/executable at ${REF_TUI}` };
  }
  if (!Bun.which("tmux")) return { reason: "tmux not installed" };
  if (!Bun.which("unshare")) return { reason: "unshare not installed" };
  const d = mkdtempSync(join(tmpdir(), "atmd-nsprobe-"));
  try {
    writeFileSync(join(d, "marker"), "");
    const errors: string[] = [];
    for (const prefix of [["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]]) {
      const r = Bun.spawnSync([...prefix, "sh", "-c", `mount --bind '${d}' /tmp && test -e /tmp/marker`], { stdout: "pipe", stderr: "pipe" });
      if (r.exitCode === 0) return { unshare: prefix };
      errors.push(`${prefix.join(" ")}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
    }
    return { reason: `cannot bind-mount over /tmp in a private mount namespace (${errors.join("; ")})` };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const env = probe();
const skipReason = "reason" in env ? env.reason : null;
const refDaemonReason = skipReason ?? (existsSync(REF_DAEMON) ? null : `reference daemon not found at ${REF_DAEMON}`);
const suffix = (r: string | null) => (r === null ? "" : ` [skipped: ${r}]`);
if (skipReason !== null) console.warn(`reference-tui tests skipped: ${skipReason}`);

// ---- helpers ----------------------------------------------------------------------------------

const sleepers: Subprocess[] = [];
cleanups.push(() => {
  for (const p of sleepers.splice(0)) p.kill("SIGKILL");
});
function livePid(): number {
  const p = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  sleepers.push(p);
  return p.pid;
}

const WORKING = "aaaa1111-7dc2-432b-9206-928fa5c35731";
const ATTENTION = "bbbb2222-41f3-4d2e-9a77-0c1d2e3f4a5b";

/** The same scripted messages for either daemon: one working session, one waiting for input. */
function script(pidA: number, pidB: number): [string, Msg][] {
  return [
    ["status_update", {
      session_id: WORKING, pid: pidA, cwd: "/tmp/proj-alpha",
      model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
      cost: { total_cost_usd: 1.23, total_duration_ms: 65000, total_api_duration_ms: 1000, total_lines_added: 12, total_lines_removed: 3 },
      context_window: { total_input_tokens: 1, total_output_tokens: 1, context_window_size: 200000, current_usage: { input_tokens: 1000, output_tokens: 5, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 } },
    }],
    ["hook_event", { session_id: WORKING, pid: pidA, hook_event_name: "UserPromptSubmit", prompt: "Fix the failing build" }],
    ["hook_event", { session_id: WORKING, pid: pidA, hook_event_name: "PreToolUse", tool_name: "Bash" }],
    ["status_update", {
      session_id: ATTENTION, pid: pidB, cwd: "/tmp/proj-beta",
      model: { id: "claude-sonnet-4-5-20250929", display_name: "Sonnet 4.5" },
      cost: { total_cost_usd: 0.05, total_duration_ms: 5000, total_api_duration_ms: 0, total_lines_added: 0, total_lines_removed: 0 },
      context_window: { total_input_tokens: 0, total_output_tokens: 0, context_window_size: 200000, current_usage: { input_tokens: 100, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
    }],
    // AskUserQuestion (not PermissionRequest) so that the reference daemon reaches the same state.
    ["hook_event", { session_id: ATTENTION, pid: pidB, hook_event_name: "PreToolUse", tool_name: "AskUserQuestion" }],
  ];
}

/** Feeds the script to a daemon and returns its session list afterwards (list_sessions as barrier). */
async function feed(socket: string, pidA: number, pidB: number): Promise<Msg[]> {
  const c: LineClient = await openClient(socket, "tui-feeder", { timeoutMs: 5000, replyTimeoutMs: 5000 });
  try {
    for (const [type, data] of script(pidA, pidB)) c.request(type, { data });
    c.request("list_sessions");
    const m = await c.expect("session_list", 10_000, (other) => {
      throw new Error(`unexpected reply while feeding: ${JSON.stringify(other)}`);
    });
    return m.sessions as Msg[];
  } finally {
    c.close();
  }
}

function tmux(sock: string, ...args: string[]): { ok: boolean; out: string; err: string } {
  const r = Bun.spawnSync(["tmux", "-S", sock, ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Starts the reference TUI inside tmux in a mount namespace where `dir` is /tmp. */
function startTui(dir: string, unshare: string[]): string {
  const sock = join(dir, "tmux.sock");
  mkdirSync(join(dir, "home"), { recursive: true });
  // The TUI runs from inside `dir`: where the checkout (and so ../shared) itself lives under /tmp,
  // its original path is hidden by the mount.
  copyFileSync(REF_TUI, join(dir, "atm"));
  chmodSync(join(dir, "atm"), 0o755);
  const inner = "XDG_STATE_HOME=/tmp/state XDG_CONFIG_HOME=/tmp/config HOME=/tmp/home /tmp/atm";
  const r = Bun.spawnSync(
    [...unshare, "sh", "-c", `mount --bind '${dir}' /tmp && exec tmux -S /tmp/tmux.sock new -d -x 160 -y 40 "${inner}"`],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, TERM: "xterm-256color" } },
  );
  if (r.exitCode !== 0) throw new Error(`starting the TUI failed: ${r.stderr.toString()}`);
  const pid = Number(tmux(sock, "display-message", "-p", "#{pid}").out.trim());
  cleanups.push(() => {
    if (!tmux(sock, "kill-server").ok && pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  });
  return sock;
}

/** Polls the pane (every 100 ms) until `pred` holds; fails with the last screen after `ms`. */
async function screenUntil(sock: string, pred: (s: string) => boolean, ms = 15_000): Promise<string> {
  const deadline = performance.now() + ms;
  let last = "";
  for (;;) {
    const r = tmux(sock, "capture-pane", "-p");
    if (r.ok) {
      last = r.out;
      if (pred(last)) return last;
    }
    if (performance.now() > deadline) throw new Error(`screen condition not met within ${ms} ms; last screen:\n${last}`);
    await Bun.sleep(100);
  }
}

/** Screen text with the parts that depend on the clock replaced. */
function normalise(screen: string): string {
  return screen.replace(/\b\d+[smhd] ago\b/g, "<t> ago").replace(/\bnow\b/g, "<t> ago");
}

const rowOf = (screen: string, idShort: string) => screen.split("\n").find((l) => l.includes(idShort));

/** The view with its time-dependent and known-different fields removed (SESSIONS.md §15 table). */
function comparable(v: Msg): Msg {
  const drop = new Set(["started_at", "last_activity", "last_activity_display", "age_display", "harness", "tmux_pane", "first_prompt"]);
  return Object.fromEntries(Object.entries(v).filter(([k]) => !drop.has(k)));
}

interface Shown {
  list: string;
  attention: string;
  working: string;
}

/** Runs the TUI against the daemon whose socket/state live in `dir`; returns the three screens. */
async function showTui(dir: string, unshare: string[]): Promise<Shown> {
  const sock = startTui(dir, unshare);
  // should_blink makes the "!" of the waiting session blink: every capture is taken in the phase
  // where it is visible, so that screens are comparable.
  const blinkOn = (s: string) => /!\s+\d+% bbbb2222/.test(rowOf(s, "bbbb2222") ?? "");
  const list = await screenUntil(sock, (s) => s.includes("aaaa1111") && s.includes("Connected") && blinkOn(s));
  // Newest first: the attention session was created last, so the first `j` selects it.
  tmux(sock, "send-keys", "j");
  const attention = await screenUntil(sock, (s) => s.includes("Status: needs input") && blinkOn(s));
  tmux(sock, "send-keys", "j");
  const working = await screenUntil(sock, (s) => s.includes("Status: working") && blinkOn(s));
  tmux(sock, "send-keys", "q");
  return { list, attention, working };
}

// ---------------------------------------------------------------------------------------------

describe("reference TUI (SESSIONS.md §15)", () => {
  let atmdScreens: Shown | undefined;
  let atmdSessions: Msg[] | undefined;

  test.skipIf(skipReason !== null)(`shows atmd's sessions: ids, models and states${suffix(skipReason)}`, async () => {
    const unshare = (env as { unshare: string[] }).unshare;
    const dir = tempDir("atmd-tui-");
    const d = await startDaemon({ dir });
    // The paths the TUI will see inside the namespace.
    expect(d.socket).toBe(join(dir, "atm.sock"));
    expect(readFileSync(join(dir, "state/atm/atmd.pid"), "utf8").trim()).toBe(String(d.proc.pid));
    const pidA = livePid();
    const pidB = livePid();
    atmdSessions = await feed(d.socket, pidA, pidB);
    expect(atmdSessions.map((s) => [s.id, s.status, s.model])).toEqual([
      [WORKING, "working", "Opus 4.5"],
      [ATTENTION, "attention_needed", "Sonnet 4.5"],
    ]);

    const shown = await showTui(dir, unshare);
    atmdScreens = shown;
    // Header: both sessions decoded (a view that fails to decode is dropped, §15).
    expect(shown.list).toContain("Connected | 2 sessions | $1.28 |");
    expect(shown.list).toContain("1 working | 1 need input");
    expect(shown.list).toContain("Sessions (2)");
    // List rows: status icon, context %, id_short, model.
    expect(rowOf(shown.list, "aaaa1111")).toMatch(/>\s+22% aaaa1111 Opus 4\.5/);
    expect(rowOf(shown.list, "bbbb2222")).toMatch(/!\s+0% bbbb2222 Sonne/);
    // Details of each session.
    for (const s of ["Status: needs input (AskUserQuestion)", "ID: bbbb2222  Agent: main  Model: Sonnet 4.5", "Dir: /tmp/proj-beta", "Waiting for input"]) {
      expect(shown.attention).toContain(s);
    }
    for (const s of ["Status: working (Bash)", "ID: aaaa1111  Agent: main  Model: Opus 4.5", "21.5% (43K/200K)", "Duration: 1m 5s", "Lines:    +12 -3", "Dir: /tmp/proj-alpha"]) {
      expect(shown.working).toContain(s);
    }
  });

  test.skipIf(refDaemonReason !== null)(`shows the same sessions as with the reference daemon fed the same messages${suffix(refDaemonReason)}`, async () => {
    const unshare = (env as { unshare: string[] }).unshare;
    if (atmdScreens === undefined || atmdSessions === undefined) throw new Error("the atmd half did not run");
    const dir = tempDir("atmd-tui-ref-");
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const sub of ["state", "home"]) mkdirSync(join(dir, sub), { recursive: true });
    const socket = join(dir, "atm.sock");
    const ref = Bun.spawn([REF_DAEMON, "start"], {
      env: { ...process.env, ATM_SOCKET: socket, XDG_STATE_HOME: join(dir, "state"), XDG_CONFIG_HOME: join(dir, "config"), HOME: join(dir, "home"), NO_COLOR: "1" },
      cwd: dir,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    cleanups.push(async () => {
      ref.kill("SIGTERM");
      await withTimeout(ref.exited, 5000, "reference daemon exit").catch(() => ref.kill("SIGKILL"));
    });
    // Ready = answers a list_sessions.
    const deadline = performance.now() + 10_000;
    for (;;) {
      if (ref.exitCode !== null) throw new Error(`reference daemon exited with ${ref.exitCode}`);
      try {
        const c = await openClient(socket, "probe", { timeoutMs: 500, replyTimeoutMs: 1000 });
        c.request("list_sessions");
        await c.expect("session_list", 1000);
        c.close();
        break;
      } catch {
        if (performance.now() > deadline) throw new Error("reference daemon did not become ready");
        await Bun.sleep(50);
      }
    }
    const refSessions = await feed(socket, livePid(), livePid());
    // The reference daemon ignores discovery switches and may list real `claude` processes
    // (pending-*); compare only the scripted sessions.
    const mine = (l: Msg[]) => l.filter((s) => s.id === WORKING || s.id === ATTENTION).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(mine(refSessions).map(comparable)).toEqual(mine(atmdSessions).map(comparable));

    const shown = await showTui(dir, unshare);
    for (const id of ["aaaa1111", "bbbb2222"]) expect(normalise(rowOf(shown.list, id) ?? "")).toBe(normalise(rowOf(atmdScreens.list, id) ?? "<missing>"));
    const extra = refSessions.length - mine(refSessions).length;
    if (extra === 0) {
      // Same sessions: the whole screens must match (clock-dependent text aside).
      expect(normalise(shown.list)).toBe(normalise(atmdScreens.list));
      expect(normalise(shown.attention)).toBe(normalise(atmdScreens.attention));
      expect(normalise(shown.working)).toBe(normalise(atmdScreens.working));
    } else {
      console.warn(`reference daemon also listed ${extra} discovered session(s); compared the scripted rows only`);
    }
  });
});
