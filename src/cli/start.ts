// `atmd start` (DAEMON.md §4): the daemon in the foreground, or detached with -d.
import { parseArgs, usageError } from "./usage.ts";

export async function run(args: string[]): Promise<number> {
  // `atmd -d` and `atmd start -d` both arrive here; drop the optional `start` word.
  const rest = args[0] === "start" ? args.slice(1) : args;
  const parsed = parseArgs("start", rest, { flags: ["-d", "--daemon", "--foreground"] });
  if (typeof parsed === "number") return parsed;
  const detached = parsed.flags.has("-d") || parsed.flags.has("--daemon");
  if (detached && parsed.flags.has("--foreground")) {
    return usageError("-d/--daemon and --foreground cannot be used together");
  }
  if (detached) {
    const { launchDetached } = await import("./launch.ts");
    return launchDetached();
  }
  const { runDaemon } = await import("../daemon.ts");
  const code = await runDaemon();
  process.exit(code);
}
