#!/usr/bin/env bun
// argv -> command. Nothing runs at import time. Every command is imported lazily (a chunk of its
// own in the compiled binary) except `hook`, the one Claude Code waits for before every tool call:
// its small module graph sits in the entry chunk, saving the load of separate chunks (measured
// 6.75 vs 6.91 ms per hook in one run, bench/hook.bench.ts style).
import { run as runHook } from "./cli/hook.ts";
import { usageError } from "./cli/usage.ts";
import { errorMessage } from "./system/error-text.ts";

type Runner = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Runner>> = {
  start: async () => (await import("./cli/start.ts")).run,
  stop: async () => (await import("./cli/stop.ts")).run,
  status: async () => (await import("./cli/status.ts")).run,
  hook: async () => runHook,
  statusline: async () => (await import("./cli/statusline.ts")).run,
  setup: async () => (await import("./cli/setup.ts")).runSetup,
  uninstall: async () => (await import("./cli/setup.ts")).runUninstall,
  list: async () => (await import("./cli/list.ts")).run,
  watch: async () => (await import("./cli/watch.ts")).run,
  "tmux-status": async () => (await import("./cli/tmux-status.ts")).run,
  stats: async () => (await import("./cli/stats.ts")).run,
};

const START_FLAGS = new Set(["-d", "--daemon", "--foreground"]);

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  // hook and statusline ignore every argument, --help included (DAEMON.md §1).
  if (first === "hook" || first === "statusline") {
    return (await COMMANDS[first]!())(argv.slice(1));
  }
  if (argv.includes("--help") || argv.includes("-h") || first === "help") {
    const { helpText } = await import("./cli/help.ts");
    process.stdout.write(helpText());
    return 0;
  }
  if (argv.includes("--version") || argv.includes("-V")) {
    const { VERSION } = await import("./version.ts");
    process.stdout.write(`atmd ${VERSION}\n`);
    return 0;
  }
  if (first === undefined || START_FLAGS.has(first)) {
    return (await COMMANDS.start!())(argv);
  }
  const load = COMMANDS[first];
  if (!load) {
    if (first.startsWith("-")) return usageError(`unknown option '${first}'`);
    return usageError(`unknown command '${first}'`);
  }
  return (await load())(argv.slice(1));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`atmd: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
