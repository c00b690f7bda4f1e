// `atmd watch` in a real terminal: a private tmux server runs it in a 120×30 pane while the test
// fires events at the daemon; capture-pane shows what a user sees. Covers the live redraw, the
// attention state, the outage and recovery across a daemon restart, and that `q` and Ctrl-C give
// the shell back (main screen, prompt, cooked mode). Skipped when tmux is not installed.
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, ROOT, startDaemon, stopAll, tempDir, type TestDaemon } from "../helpers/daemon.ts";
import type { LineClient } from "../../src/transport/client.ts";

const TMUX = Bun.which("tmux");
if (!TMUX) console.warn("client-commands-tmux: tmux not found; skipping the terminal tests (apt-get install -y tmux)");

const PROMPT = "atm-test$ ";
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort: the next cleanup still runs
    }
  }
  await stopAll();
});

function sleeper(): number {
  const p: Subprocess = Bun.spawn(["sleep", "120"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  cleanups.push(() => void p.kill("SIGKILL"));
  return p.pid;
}

class Tmux {
  constructor(readonly sock: string) {}

  run(...args: string[]): string {
    const r = Bun.spawnSync([TMUX!, "-S", this.sock, ...args], { stdout: "pipe", stderr: "pipe", env: tmuxEnv() });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  }

  screen(): string {
    return this.run("capture-pane", "-p", "-t", "t");
  }

  keys(...keys: string[]): void {
    this.run("send-keys", "-t", "t", ...keys);
  }

  /** Polls the pane (every 100 ms, at most `ms`) until `pred` holds; returns that screen. */
  async waitScreen(pred: (s: string) => boolean, what: string, ms = 15_000): Promise<string> {
    const deadline = performance.now() + ms;
    let s = "";
    while (performance.now() < deadline) {
      s = this.screen();
      if (pred(s)) return s;
      await Bun.sleep(100);
    }
    throw new Error(`screen never showed ${what} within ${ms} ms; last screen:\n${s}`);
  }
}

/** The test's own environment minus anything tying tmux to an outer session. */
function tmuxEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "TMUX" && k !== "TMUX_PANE") env[k] = v;
  return env;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function terminal(d: TestDaemon): Promise<Tmux> {
  const dir = tempDir("atmd-tmux-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const t = new Tmux(join(dir, "tmux.sock"));
  const vars = ["ATM_SOCKET", "XDG_STATE_HOME", "HOME", "ATM_NO_DISCOVERY"].map((k) => `${k}=${shellQuote(d.env[k]!)}`);
  const shell =
    `env -i PATH=${shellQuote(process.env.PATH ?? "/usr/bin:/bin")} TERM=xterm-256color LANG=C.UTF-8 ` +
    `${vars.join(" ")} PS1=${shellQuote(PROMPT)} bash --norc --noprofile`;
  t.run("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30", "-s", "t", "-c", ROOT, shell);
  cleanups.push(() => void t.run("kill-server"));
  await t.waitScreen((s) => s.includes(PROMPT.trimEnd()), "the shell prompt");
  return t;
}

function statusUpdate(c: LineClient, id: string, pid: number, cwd: string): void {
  c.request("status_update", {
    data: {
      session_id: id,
      model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
      cwd,
      pid,
      cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_lines_added: 1, total_lines_removed: 2 },
    },
  });
}

function hook(c: LineClient, id: string, name: string, extra: Record<string, unknown> = {}): void {
  c.request("hook_event", { data: { session_id: id, hook_event_name: name, ...extra } });
}

/** The shell is back: main screen, the prompt as the last line, line editing and echo on. */
async function expectShellRestored(t: Tmux): Promise<void> {
  const s = await t.waitScreen((x) => !x.includes("q quit") && x.trimEnd().endsWith(PROMPT.trimEnd()), "the prompt after quitting");
  expect(s).not.toContain("atmd watch ");
  t.keys("echo rc=$?", "Enter");
  await t.waitScreen((x) => /^rc=\d+$/m.test(x), "the exit status");
  expect(t.screen()).toMatch(/^rc=0$/m);
  t.keys("stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ,", "Enter");
  const after = await t.waitScreen((x) => /(-?icanon|-?echo),/.test(x), "stty output");
  expect(after).toContain("icanon,echo,");
}

describe.skipIf(!TMUX)("atmd watch in a tmux pane", () => {
  test("live view: sessions appear and change state; q restores the shell", async () => {
    const d = await startDaemon();
    const c = await d.client("fixture");
    statusUpdate(c, "7a111111-0000", sleeper(), "/tmp/project-one");
    const t = await terminal(d);
    t.keys(`${shellQuote(BUN)} ${shellQuote(MAIN)} watch`, "Enter");

    let s = await t.waitScreen((x) => x.includes("7a111111") && x.includes("1 session"), "the first session");
    expect(s).toMatch(/^atmd watch {2}1 session · 1 idle {2}last change \d\d:\d\d:\d\d/);
    expect(s).toMatch(/- 7a111111\s+Opus 4\.5/);
    expect(s).toContain("project-one");
    expect(s).toContain("q quit");

    // Another "pane" fires hook events at the daemon; the view follows.
    const pid2 = sleeper();
    statusUpdate(c, "7b222222-0000", pid2, "/tmp/project-two");
    hook(c, "7b222222-0000", "PreToolUse", { tool_name: "Bash", pid: pid2 });
    s = await t.waitScreen((x) => /> 7b222222 .*Bash/.test(x), "the working session");
    expect(s).toContain("2 sessions · 1 working · 1 idle");

    hook(c, "7a111111-0000", "PermissionRequest", { tool_name: "Edit" });
    s = await t.waitScreen((x) => /! 7a111111 .*Permission/.test(x), "the attention state");
    expect(s).toContain("1 working · 1 needs input");

    hook(c, "7b222222-0000", "SessionEnd", { pid: pid2 });
    s = await t.waitScreen((x) => !x.includes("7b222222"), "the removal");
    expect(s).toContain("1 session · 1 needs input");

    t.keys("q");
    await expectShellRestored(t);
  }, 60_000);

  test("daemon restart: the view shows the outage and recovers by itself; Ctrl-C restores the shell", async () => {
    const d1 = await startDaemon();
    const c1 = await d1.client("fixture");
    statusUpdate(c1, "7c333333-0000", sleeper(), "/tmp/p3");
    const t = await terminal(d1);
    t.keys(`${shellQuote(BUN)} ${shellQuote(MAIN)} watch`, "Enter");
    await t.waitScreen((x) => x.includes("7c333333"), "the session");
    c1.close();

    await d1.stop();
    let s = await t.waitScreen((x) => x.includes("disconnected since"), "the outage");
    expect(s).toContain("reconnecting");
    expect(s).toContain("7c333333"); // the last known sessions stay visible during the outage

    const d2 = await startDaemon({ dir: d1.dir });
    const c2 = await d2.client("fixture");
    statusUpdate(c2, "7d444444-0000", sleeper(), "/tmp/p4");
    s = await t.waitScreen((x) => x.includes("7d444444") && !x.includes("disconnected"), "the recovered view", 20_000);
    expect(s).not.toContain("7c333333"); // the new session_list replaced the view

    t.keys("C-c");
    await expectShellRestored(t);
    rmSync(d1.dir, { recursive: true, force: true });
  }, 60_000);

  test("list on a terminal: styled, unless NO_COLOR is set", async () => {
    const d = await startDaemon();
    const c = await d.client("fixture");
    const pid = sleeper();
    statusUpdate(c, "7f666666-0000", pid, "/tmp/p6");
    hook(c, "7f666666-0000", "PreToolUse", { tool_name: "Bash", pid });
    const t = await terminal(d);
    t.keys(`${shellQuote(BUN)} ${shellQuote(MAIN)} list`, "Enter");
    await t.waitScreen((x) => x.includes("7f666666"), "the table");
    const styled = t.run("capture-pane", "-p", "-e", "-t", "t");
    expect(styled).toMatch(/\x1b\[[0-9;]*m/);
    t.keys("clear", "Enter");
    await t.waitScreen((x) => !x.includes("7f666666"), "a clear screen");
    t.keys(`NO_COLOR=1 ${shellQuote(BUN)} ${shellQuote(MAIN)} list`, "Enter");
    await t.waitScreen((x) => x.includes("7f666666"), "the table");
    const plain = t.run("capture-pane", "-p", "-e", "-t", "t");
    expect(plain).not.toMatch(/\x1b\[[0-9;]*m/);
    expect(plain).toMatch(/> 7f666666 .*Bash/);
  }, 60_000);

  test("a narrow pane: rows are cut, never wrapped", async () => {
    const d = await startDaemon();
    const c = await d.client("fixture");
    statusUpdate(c, "7e555555-0000", sleeper(), "/tmp/日本語のとても長いプロジェクト名前🚀");
    const t = await terminal(d);
    t.run("resize-window", "-t", "t", "-x", "40", "-y", "12");
    t.keys(`${shellQuote(BUN)} ${shellQuote(MAIN)} watch`, "Enter");
    const s = await t.waitScreen((x) => x.includes("7e555555"), "the session");
    const lines = s.split("\n");
    const row = lines.find((l) => l.includes("7e555555"))!;
    expect(row.trimEnd().endsWith("…")).toBe(true);
    for (const l of lines) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(40);
    // Nothing wrapped onto a line of its own.
    expect(lines.filter((l) => l.includes("7e555555")).length).toBe(1);
    t.keys("q");
    await t.waitScreen((x) => !x.includes("q quit"), "the shell");
  }, 60_000);
});
