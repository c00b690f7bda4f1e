// `atmd tmux-status [--tmux]` (DAEMON.md §6): one short line for tmux's status-right. tmux runs it
// every few seconds in every client, so: a tiny import graph (no registry, no validation library),
// one pipelined round trip, a hard 300 ms budget from process start, and no error output ever —
// whatever goes wrong, the line is simply empty and the exit status 0.
import { LINE_HEAD } from "../protocol/version.ts";
import { socketPath } from "../system/paths.ts";
import { LineClient } from "../transport/client.ts";
import { tmuxCounts, tmuxLine } from "./render/tmux.ts";
import { parseArgs } from "./usage.ts";

const BUDGET_MS = 300;

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs("tmux-status", args, { flags: ["--tmux"] });
  if (typeof parsed === "number") return parsed;
  // The budget counts from process start (performance.now()'s origin), not from here.
  const left = (): number => Math.max(1, BUDGET_MS - performance.now());
  // Hard stop: even a stuck connect or a huge reply cannot hold the status bar up.
  const guard = setTimeout(() => process.exit(0), left());
  let client: LineClient | undefined;
  try {
    client = await LineClient.connect(socketPath(), { timeoutMs: left() });
    // Pipelined: both lines in one write, then read the two replies.
    client.send(
      `${LINE_HEAD}"connect","client_id":"atmd-cli"}\n${LINE_HEAD}"list_sessions"}\n`,
    );
    const connected = await client.next(left());
    if (connected?.type !== "connected") return 0;
    const list = await client.next(left());
    if (list?.type !== "session_list" || !Array.isArray(list.sessions)) return 0;
    const line = tmuxLine(tmuxCounts(list.sessions), parsed.flags.has("--tmux"));
    if (line !== "") process.stdout.write(`${line}\n`);
    return 0;
  } catch {
    return 0;
  } finally {
    clearTimeout(guard);
    client?.close();
  }
}
