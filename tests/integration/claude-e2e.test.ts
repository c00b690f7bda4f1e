// The whole integration as a user gets it (issue "Claude Code integration", done-when): a fresh
// HOME with the user's own status line, `atmd setup`, a running daemon, then a Claude-like process
// tree that runs the hook and status-line commands exactly as they stand in settings.json, through
// `/bin/sh -c`, for one turn. A subscriber must see the session move through the right states,
// `atmd list` must show it, and the user's previous status line must still print.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, readUntil, startDaemon, stopAll, tempDir, withTimeout } from "../helpers/daemon.ts";

afterAll(stopAll);

const SID = "5f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f";

interface Settings {
  hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>>;
  statusLine: { command: string };
}

test("setup, then one scripted Claude turn: states, list and the user's own status line", async () => {
  const dir = tempDir("atmd-e2e-");
  const d = await startDaemon({ dir });
  const env = d.env; // private HOME, XDG dirs and ATM_SOCKET
  const home = env.HOME as string;
  mkdirSync(join(home, ".claude"), { recursive: true });
  writeFileSync(
    join(home, ".claude", "settings.json"),
    `${JSON.stringify({ statusLine: { type: "command", command: "printf 'my own line'", padding: 0 } }, null, 2)}\n`,
  );

  // 1. atmd setup.
  const setup = Bun.spawnSync([BUN, MAIN, "setup"], { env, stdout: "pipe", stderr: "pipe" });
  expect(setup.stderr.toString()).toBe("");
  expect(setup.exitCode).toBe(0);
  const settings = JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")) as Settings;
  const hookCmd = (event: string): string => {
    const entries = settings.hooks[event];
    if (!entries) throw new Error(`setup installed no ${event} hook`);
    return (entries.at(-1)?.hooks[0]?.command as string) ?? "";
  };

  // 2. A subscriber watches.
  const sub = await d.client("e2e-watcher");
  sub.request("subscribe");
  await sub.expect("session_list");

  // 3. The Claude-like process: a copy of sh named `claude` runs each configured command through
  //    `/bin/sh -c` with the event's JSON on stdin, the way Claude Code does, then stays alive.
  const claude = join(dir, "claude");
  copyFileSync("/bin/sh", claude);
  const cwd = join(dir, "proj");
  mkdirSync(cwd);
  const base = { session_id: SID, transcript_path: join(dir, "t.jsonl"), cwd, permission_mode: "default" };
  const turn: Array<Record<string, unknown>> = [
    { ...base, hook_event_name: "SessionStart", source: "startup" },
    { ...base, hook_event_name: "UserPromptSubmit", prompt: "fix the failing test" },
    { ...base, hook_event_name: "PreToolUse", tool_name: "Bash", tool_use_id: "toolu_1", tool_input: { command: "bun test" } },
    { ...base, hook_event_name: "PostToolUse", tool_name: "Bash", tool_use_id: "toolu_1", tool_response: { stdout: "ok" } },
    { ...base, hook_event_name: "PermissionRequest", tool_name: "Edit", tool_input: { file_path: "a.ts" } },
    { ...base, hook_event_name: "PostToolUse", tool_name: "Edit", tool_use_id: "toolu_2" },
    { ...base, hook_event_name: "Stop", stop_hook_active: false },
  ];
  const status = {
    ...base,
    model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
    workspace: { current_dir: cwd, project_dir: cwd },
    version: "2.0.76",
    cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
    context_window: { context_window_size: 200000, current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 } },
  };
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines: string[] = [];
  turn.forEach((payload, i) => {
    const f = join(dir, `event-${i}.json`);
    writeFileSync(f, JSON.stringify(payload));
    lines.push(`/bin/sh -c ${q(hookCmd(payload.hook_event_name as string))} < ${q(f)} >> ${q(join(dir, "hook-out"))}`);
    if (i === 1) {
      // After the first prompt, Claude refreshes its status line.
      writeFileSync(join(dir, "status.json"), JSON.stringify(status));
      lines.push(`/bin/sh -c ${q(settings.statusLine.command)} < ${q(join(dir, "status.json"))} > ${q(join(dir, "statusline-out"))}`);
    }
  });
  lines.push(`touch ${q(join(dir, "turn-done"))}`, "exec sleep 60");
  const proc = Bun.spawn([claude, "-c", lines.join("\n")], { env: { ...env, TMUX_PANE: "%3" }, cwd, stdout: "inherit", stderr: "inherit" });

  try {
    // 4. The subscriber sees the turn's states, in order (SESSIONS.md §6.7). Repeats collapse:
    //    the status line updates the session without changing its state.
    const expected = ["idle:-", "working:-", "working:Bash", "working:Thinking", "attention_needed:Permission", "working:Thinking", "idle:-"];
    const path: string[] = [];
    const panes = new Set<unknown>();
    await readUntil(
      sub,
      (m) => {
        if (m.type !== "session_updated") return false;
        const v = m.session as { id: string; status: string; activity_detail: string | null; tmux_pane: string | null };
        if (v.id !== SID) return false;
        panes.add(v.tmux_pane);
        const label = `${v.status}:${v.activity_detail ?? "-"}`;
        if (path.at(-1) !== label) path.push(label);
        return path.length >= expected.length;
      },
      30_000,
    );
    expect(path).toEqual(expected);
    expect([...panes]).toEqual(["%3"]);

    // 5. `atmd list --json` shows it (the claude process is still alive), with the status line's data.
    for (let i = 0; i < 500 && !existsSync(join(dir, "turn-done")); i++) await Bun.sleep(10);
    const list = Bun.spawnSync([BUN, MAIN, "list", "--json"], { env, stdout: "pipe", stderr: "pipe" });
    expect(list.exitCode).toBe(0);
    const views = JSON.parse(list.stdout.toString()) as Array<Record<string, unknown>>;
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ id: SID, status: "idle", model: "Opus 4.5", cost_display: "$0.35", context_display: "21.5% (43K/200K)", tmux_pane: "%3", first_prompt: "fix the failing test" });

    // 6. The user's own status line still prints, through atmd statusline; hooks print nothing.
    expect(readFileSync(join(dir, "statusline-out"), "utf8")).toBe("my own line");
    expect(readFileSync(join(dir, "hook-out"), "utf8")).toBe("");
  } finally {
    proc.kill();
    await withTimeout(proc.exited, 5000, "claude exit");
  }
  // 7. And when Claude goes away, so does the session.
  await readUntil(sub, (m) => m.type === "session_removed" && m.session_id === SID, 10_000);
  sub.close();
}, 60_000);
