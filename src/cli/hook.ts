// `atmd hook` (DAEMON.md §10): forward one Claude Code hook event to the daemon and get out of the
// way. Always exits 0, prints nothing, and never runs past the 100 ms budget: a hard timer exits
// the process when the budget is used up, whatever is still pending.
import { BUDGET_MS, debugLog, forward, forwardIo, newState, readStdin, STDIN_LIMIT } from "../integration/forward.ts";

/**
 * Margin kept for process exit itself, and for the time before the runtime's clock started (the
 * budget counts from exec; performance.now() from runtime start), so the whole run stays under it.
 */
const EXIT_MARGIN_MS = 15;

export async function run(_args: string[]): Promise<number> {
  const state = newState("hook");
  const deadline = BUDGET_MS - EXIT_MARGIN_MS;
  const timer = setTimeout(
    () => {
      void debugLog(state, "timeout").finally(() => process.exit(0));
    },
    Math.max(0, deadline - performance.now()),
  );
  try {
    const io = await forwardIo();
    const bytes = await readStdin(io, STDIN_LIMIT, deadline);
    const result = await forward(io, bytes, state, deadline);
    await debugLog(state, result);
  } catch {
    // fail open
  }
  clearTimeout(timer);
  process.exit(0);
}
