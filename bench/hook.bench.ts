// Benchmark of `atmd hook` (DAEMON.md §10.1): median wall time of the compiled hook under a fake
// `claude` parent, daemon up and daemon down, next to /bin/true, an empty compiled Bun program
// and the reference `atm-hook` script, all measured in one run.
//
//   bun bench/hook.bench.ts [--runs N] [--ref-runs N] [--no-build] [--reference-daemon] [--atmd PATH]
//                           [--stdin socket|file]
//
// stdin is given as Claude Code gives it: `socket` (default) is a socketpair written and shut down
// by the parent, which is what Node's and Bun's child_process create for a "pipe"; `file` makes
// stdin the payload file itself.
//
// Prints a table and then one JSON object. Targets: hook median ≤ 1.5× the empty compiled program
// and ≤ 0.12× the reference script (daemon up).
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const REF_HOOK = resolve(ROOT, "../shared/reference/bin/atm-hook");
const REF_DAEMON = resolve(ROOT, "../shared/reference/bin/atmd");

function flagValue(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}
const RUNS = flagValue("--runs", 40);
const REF_RUNS = flagValue("--ref-runs", 12);
const stdinIdx = process.argv.indexOf("--stdin");
const STDIN = stdinIdx >= 0 && process.argv[stdinIdx + 1] === "file" ? "file" : "socket";

const dir = mkdtempSync(join(tmpdir(), "atmd-hook-bench-"));
const atmdIdx = process.argv.indexOf("--atmd");
const atmd = atmdIdx >= 0 ? resolve(process.argv[atmdIdx + 1] as string) : join(ROOT, "dist", "atmd");

function sh(cmd: string[], cwd = ROOT): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "ignore", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`failed: ${cmd.join(" ")}`);
}

// 1. The binaries: atmd compiled as `bun run compile` does it, and an empty compiled program.
if (atmdIdx < 0 && (!process.argv.includes("--no-build") || !existsSync(atmd))) {
  sh([process.execPath, "run", "compile"]);
}
writeFileSync(join(dir, "empty.ts"), "");
sh([process.execPath, "build", "--compile", join(dir, "empty.ts"), "--outfile", join(dir, "empty")], dir);

// 2. A fake Claude Code: a copy of bun named `claude` runs the timing loop, so every measured
//    command has a `claude` parent.
const claude = join(dir, "claude");
copyFileSync(process.execPath, claude);
const payload = join(dir, "payload.json");
writeFileSync(
  payload,
  JSON.stringify({
    session_id: "8e11bfb5-7dc2-432b-9206-928fa5c35731",
    transcript_path: "/home/u/.claude/projects/-home-u-proj/8e11bfb5-7dc2-432b-9206-928fa5c35731.jsonl",
    cwd: "/home/u/proj",
    permission_mode: "default",
    hook_event_name: "PreToolUse",
    tool_name: "Bash",
    tool_input: { command: "ls -la", description: "List files" },
    tool_use_id: "toolu_01ABC",
  }),
);
const inner = join(dir, "inner.ts");
writeFileSync(
  inner,
  `
const [payload, runs, refRuns, spec, stdinKind] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), JSON.parse(process.argv[5]), process.argv[6]];
const bytes = await Bun.file(payload).bytes();
const times = {};
for (const k of Object.keys(spec)) times[k] = [];
const max = Math.max(runs, refRuns);
for (let i = 0; i < max + 2; i++) {
  for (const [k, cmd] of Object.entries(spec)) {
    const n = k === "reference atm-hook" ? refRuns : runs;
    if (i >= n + 2) continue;
    const t0 = performance.now();
    const p = Bun.spawn(cmd, { stdin: stdinKind === "file" ? Bun.file(payload) : "pipe", stdout: "pipe", stderr: "pipe" });
    if (stdinKind !== "file") {
      // /bin/true and the empty program exit without reading: EPIPE is expected and ignored.
      const feed = async () => {
        p.stdin.write(bytes);
        await p.stdin.end();
      };
      feed().catch(() => {});
    }
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const dt = performance.now() - t0;
    if (i >= 2) times[k].push(dt); // two warm-up runs
    if (k === "atmd hook" && (code !== 0 || out.length || err.length)) {
      console.error("atmd hook misbehaved", code, out, err);
      process.exit(1);
    }
  }
}
console.log(JSON.stringify(times));
`,
);

const spec: Record<string, string[]> = {
  "/bin/true": ["/bin/true"],
  "empty compiled bun": [join(dir, "empty")],
  "atmd hook": [atmd, "hook"],
};
if (existsSync(REF_HOOK)) spec["reference atm-hook"] = [REF_HOOK];

const socket = join(dir, "atm.sock");
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: join(dir, "home"),
  XDG_STATE_HOME: join(dir, "state"),
  ATM_SOCKET: socket,
  ATM_NO_DISCOVERY: "1",
  TMUX_PANE: "%7",
};

function measure(): Record<string, number[]> {
  const r = Bun.spawnSync([claude, inner, payload, String(RUNS), String(REF_RUNS), JSON.stringify(spec), STDIN], {
    env,
    stdout: "pipe",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) throw new Error("timing loop failed");
  return JSON.parse(r.stdout.toString()) as Record<string, number[]>;
}

async function startDaemon(): Promise<{ name: string; stop: () => Promise<void> }> {
  const candidates: [string, string[]][] = [];
  if (!process.argv.includes("--reference-daemon")) candidates.push(["atmd", [atmd, "start", "--foreground"]]);
  if (existsSync(REF_DAEMON)) candidates.push(["reference atmd", [REF_DAEMON, "start"]]);
  for (const [name, cmd] of candidates) {
    const p = Bun.spawn(cmd, { env, stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && p.exitCode === null; i++) {
      if (existsSync(socket)) {
        await Bun.sleep(50);
        return {
          name,
          stop: async () => {
            p.kill("SIGTERM");
            await p.exited;
            rmSync(socket, { force: true });
          },
        };
      }
      await Bun.sleep(20);
    }
    p.kill("SIGKILL");
    await p.exited;
  }
  throw new Error("no daemon could be started");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const daemon = await startDaemon();
const up = measure();
await daemon.stop();
const down = measure();
rmSync(dir, { recursive: true, force: true });

const rows: { case: string; daemon: string; median_ms: number; runs: number }[] = [];
for (const [label, t] of [
  ["up", up],
  ["down", down],
] as const) {
  for (const [k, xs] of Object.entries(t)) rows.push({ case: k, daemon: label, median_ms: median(xs), runs: xs.length });
}
const get = (c: string, d: string): number => rows.find((r) => r.case === c && r.daemon === d)?.median_ms ?? NaN;
const ratios = {
  up_vs_empty: get("atmd hook", "up") / get("empty compiled bun", "up"),
  up_vs_reference: get("atmd hook", "up") / get("reference atm-hook", "up"),
  down_vs_empty: get("atmd hook", "down") / get("empty compiled bun", "down"),
};
const targets = {
  "hook ≤ 1.5× empty (daemon up)": ratios.up_vs_empty <= 1.5,
  "hook ≤ 0.12× reference (daemon up)": ratios.up_vs_reference <= 0.12,
};

console.log(`daemon: ${daemon.name}; stdin: ${STDIN}; ${RUNS} runs (reference script: ${REF_RUNS}) after 2 warm-ups\n`);
console.log(`${"case".padEnd(22)} ${"daemon".padEnd(7)} ${"median ms".padStart(10)}`);
for (const r of rows) console.log(`${r.case.padEnd(22)} ${r.daemon.padEnd(7)} ${r.median_ms.toFixed(2).padStart(10)}`);
console.log(
  `\nhook/empty (up) ${ratios.up_vs_empty.toFixed(2)}x, hook/reference (up) ${ratios.up_vs_reference.toFixed(3)}x, hook/empty (down) ${ratios.down_vs_empty.toFixed(2)}x`,
);
for (const [t, ok] of Object.entries(targets)) console.log(`${ok ? "PASS" : "FAIL"} ${t}`);
console.log(JSON.stringify({ daemon: daemon.name, stdin: STDIN, runs: RUNS, ref_runs: REF_RUNS, rows, ratios, targets }));
