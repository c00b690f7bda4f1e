// Small protocol-test helpers shared by the black-box suites: live pids for sessions, the exact
// error line, "closed with nothing more", ping barriers and stats polling.
import { expect } from "bun:test";
import type { Subprocess } from "bun";
import type { LineClient } from "../../src/transport/client.ts";
import { readUntil } from "./daemon.ts";

export const OPUS = { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" };

/** SessionView keys in the order SESSIONS.md §7.1 lists them (restated here, not taken from src). */
export const VIEW_KEY_ORDER: readonly string[] = [
  "id", "id_short", "agent_type", "model", "status", "status_label", "activity_detail", "should_blink",
  "status_icon", "context_percentage", "context_display", "context_warning", "context_critical",
  "cost_display", "cost_usd", "duration_display", "duration_seconds", "lines_display",
  "working_directory", "needs_attention", "last_activity_display", "age_display", "started_at",
  "last_activity", "tmux_pane", "project_root", "worktree_path", "worktree_branch",
  "parent_session_id", "child_session_ids", "first_prompt", "harness",
];

const sleepers: Subprocess[] = [];

/** A live process whose pid can carry a session (the liveness tick keeps it); see killSleepers. */
export function livePid(): number {
  const p = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  sleepers.push(p);
  return p.pid;
}

/** Kills every process livePid() started (for afterAll). */
export function killSleepers(): void {
  for (const p of sleepers.splice(0)) p.kill("SIGKILL");
}

/** The `data` of a status_update that can create a session. */
export function statusData(
  sessionId: string,
  pid: number,
  extra: Record<string, unknown> = {},
  model: Record<string, unknown> = OPUS,
): Record<string, unknown> {
  return { session_id: sessionId, pid, model, cwd: "/tmp", ...extra };
}

/** The exact bytes of an `error` line (without its newline). */
export const errLine = (message: string, code: string): string => JSON.stringify({ type: "error", message, code });

/** Expects the daemon to close the connection with nothing (more) written. */
export async function expectClosed(c: LineClient, ms = 3000): Promise<void> {
  expect(await c.nextLine(ms)).toBeNull();
}

/** Sends a ping and returns every message up to and including its pong. */
export async function barrier(c: LineClient, seq: number, ms = 5000): Promise<Record<string, unknown>[]> {
  c.request("ping", { seq });
  return readUntil(c, (m) => m.type === "pong" && m.seq === seq, ms);
}

export async function stats(c: LineClient, ms = 10_000): Promise<Record<string, unknown>> {
  c.request("stats");
  return c.expect("stats", ms);
}

/** Polls `stats` on `c` until `pred` holds (for effects of other connections' closes). */
export async function statsUntil(
  c: LineClient,
  pred: (s: Record<string, unknown>) => boolean,
  ms = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = performance.now() + ms;
  for (;;) {
    const s = await stats(c);
    if (pred(s)) return s;
    if (performance.now() > deadline) throw new Error(`stats condition not met: ${JSON.stringify(s)}`);
    await Bun.sleep(20);
  }
}
