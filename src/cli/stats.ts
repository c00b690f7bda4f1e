// `atmd stats [--json]` (DAEMON.md §6): the daemon's `stats` reply (PROTOCOL.md §13) as
// `key: value` lines, or the reply line unchanged.
import { socketPath } from "../system/paths.ts";
import { failureMessage, requestOnce } from "../transport/session-stream.ts";
import { statsLines } from "./render/stats.ts";
import { EXIT_FAILURE, EXIT_OK, parseArgs } from "./usage.ts";

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs("stats", args, { flags: ["--json"] });
  if (typeof parsed === "number") return parsed;
  const socket = socketPath();
  let reply: { line: string; message: Record<string, unknown> };
  try {
    reply = await requestOnce(socket, "stats", "stats");
  } catch (e) {
    process.stderr.write(`${failureMessage(e, socket)}\n`);
    return EXIT_FAILURE;
  }
  const text = parsed.flags.has("--json") ? reply.line : statsLines(reply.message).join("\n");
  process.stdout.write(`${text}\n`);
  return EXIT_OK;
}
