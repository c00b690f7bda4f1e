// `atmd stop` (DAEMON.md §5.2): find the daemon as `status` does, SIGTERM it, and wait (checking
// every 100 ms, at most 5 s) until it is gone — a zombie counts as gone, and so does a pid that
// now belongs to a different process (start time changed).
import { processStartTime, sameProcess } from "../system/lock.ts";
import { findDaemon } from "./status.ts";
import { parseArgs } from "./usage.ts";

type Env = Record<string, string | undefined>;

export const STOP_TIMEOUT_MS = 5000;
export const STOP_POLL_MS = 100;

export async function run(args: string[], env: Env = process.env): Promise<number> {
  const parsed = parseArgs("stop", args, {});
  if (typeof parsed === "number") return parsed;
  const found = await findDaemon(env);
  if (found.kind !== "answering" && found.kind !== "silent") {
    process.stdout.write("Daemon is not running.\n");
    return 0;
  }
  const pid = found.pid;
  const startTime = found.kind === "silent" ? found.startTime : processStartTime(pid);
  process.stdout.write(`Stopping daemon (PID ${pid})...\n`);
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    process.stderr.write(`Failed to send SIGTERM to process ${pid}\n`);
    return 1;
  }
  const gone = () => !sameProcess(pid, startTime);
  const deadline = performance.now() + STOP_TIMEOUT_MS;
  for (;;) {
    if (gone()) {
      process.stdout.write("Daemon stopped.\n");
      return 0;
    }
    if (performance.now() >= deadline) break;
    await Bun.sleep(Math.min(STOP_POLL_MS, Math.max(0, deadline - performance.now())));
  }
  process.stderr.write("Daemon did not stop within 5 seconds.\n");
  return 1;
}
