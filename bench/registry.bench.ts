// Registry cost per status_update: a full Claude status line (already JSON-parsed, as the server
// hands it over) applied to one of 100 live sessions, including validation, the state update and
// building the SessionView for the broadcast; separately with the event's JSON.stringify added.
// Run: bun bench/registry.bench.ts
import { Registry } from "../src/registry/registry.ts";
import { FakeSystem } from "../src/registry/testing.ts";

const SESSIONS = 100;
const ITERATIONS = 300_000;

const sys = new FakeSystem();
for (let pid = 1000; pid < 1000 + SESSIONS; pid++) sys.spawn(pid);
sys.git.set("/home/u/code/proj", { projectRoot: "/home/u/code/proj", worktreePath: "/home/u/code/proj", worktreeBranch: "main" });
const registry = new Registry({ system: sys });

const lines = Array.from({ length: SESSIONS }, (_, i) => ({
  session_id: `8e11bfb5-7dc2-432b-9206-${String(i).padStart(12, "0")}`,
  transcript_path: "/home/u/.claude/projects/proj/8e11bfb5.jsonl",
  cwd: "/home/u/code/proj",
  model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
  workspace: { current_dir: "/home/u/code/proj", project_dir: "/home/u/code/proj" },
  version: "2.0.76",
  output_style: { name: "default" },
  cost: { total_cost_usd: 0.35 + i, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
  exceeds_200k_tokens: false,
  context_window: {
    total_input_tokens: 50000, total_output_tokens: 10000, context_window_size: 200000,
    current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 },
  },
  pid: 1000 + i,
  tmux_pane: "%5",
}));

const t0 = performance.timeOrigin + performance.now();
for (const l of lines) registry.statusUpdate(l, t0);

function run(stringify: boolean): number {
  let sink = 0;
  const start = performance.now();
  for (let n = 0; n < ITERATIONS; n++) {
    const res = registry.statusUpdate(lines[n % SESSIONS], t0 + n * 0.01);
    if (stringify) for (const e of res.events) sink += JSON.stringify(e).length;
    else sink += res.events.length;
  }
  const us = ((performance.now() - start) * 1000) / ITERATIONS;
  if (sink === 0) throw new Error("nothing happened");
  return us;
}

run(false); // warm-up (JIT)
run(true);
const bare = Math.min(run(false), run(false), run(false));
const withJson = Math.min(run(true), run(true), run(true));
console.log(`registry.statusUpdate, ${SESSIONS} sessions, full status line: ${bare.toFixed(2)} µs per status_update`);
console.log(`  + JSON.stringify of the session_updated event:          ${withJson.toFixed(2)} µs per status_update`);
