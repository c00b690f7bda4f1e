// `atmd list [--json] [--status working|idle|attention]` (DAEMON.md §6): the current sessions as
// a table (grouped by project, newest first, subagents under their parent), or as one JSON line.
import type { SessionView } from "../registry/types.ts";
import { socketPath } from "../system/paths.ts";
import { failureMessage, requestOnce } from "../transport/session-stream.ts";
import { matchesStatus, orderSessions, STATUS_FILTERS, toView, type StatusFilter } from "./render/sessions.ts";
import { renderTable } from "./render/table.ts";
import { terminalWidth, useColor } from "./tty.ts";
import { EXIT_FAILURE, EXIT_OK, parseArgs, usageError } from "./usage.ts";

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs("list", args, { flags: ["--json"], values: ["--status"] });
  if (typeof parsed === "number") return parsed;
  const statusArg = parsed.values.get("--status");
  let status: StatusFilter | undefined;
  if (statusArg !== undefined) {
    if (!(STATUS_FILTERS as readonly string[]).includes(statusArg)) {
      return usageError(`invalid value '${statusArg}' for '--status' (expected working, idle or attention)`);
    }
    status = statusArg as StatusFilter;
  }

  const socket = socketPath();
  let sessions: unknown[];
  try {
    const { message } = await requestOnce(socket, "list_sessions", "session_list");
    sessions = Array.isArray(message.sessions) ? message.sessions : [];
  } catch (e) {
    process.stderr.write(`${failureMessage(e, socket)}\n`);
    return EXIT_FAILURE;
  }

  // Keep each raw object next to its parsed view: --json prints the daemon's views unchanged.
  const raw = new Map<SessionView, unknown>();
  const views: SessionView[] = [];
  for (const s of sessions) {
    const v = toView(s);
    if (v && matchesStatus(v, status)) {
      raw.set(v, s);
      views.push(v);
    }
  }

  if (parsed.flags.has("--json")) {
    const ordered = orderSessions(views).map((r) => raw.get(r.view));
    await write(`${JSON.stringify(ordered)}\n`);
    return EXIT_OK;
  }
  const lines = renderTable(views, { width: terminalWidth(), color: useColor() });
  await write(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

/** Writes to stdout; a reader that went away (`atmd list | head -1`) is not an error. */
function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.once("error", () => resolve());
    process.stdout.write(text, () => resolve());
  });
}
