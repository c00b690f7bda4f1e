// `bun run bench`: what the daemon costs. Drives the compiled daemon (dist/atmd, built first if
// missing) on a temp socket and measures ingest, the hook connection pattern, fan-out latency and
// throughput, footprint, start-up and the `atmd hook` command. Every figure is taken over several
// rounds and printed as min / median / max (shared 2-core machines are noisy), then written to
// bench/results.json. The load generator's own CPU is reported so it can be ruled out as the
// bottleneck.
//
//   bun bench/run.ts [--quick] [--rounds N] [--no-hook]
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const ATMD = join(ROOT, "dist", "atmd");
const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const ROUNDS = Number(argv[argv.indexOf("--rounds") + 1]) || (QUICK ? 2 : 3);
const INGEST_LINES = QUICK ? 50_000 : 200_000;
const HOOK_EVENTS = QUICK ? 4_000 : 20_000;
const FANOUT_SECONDS = QUICK ? 2 : 5;
const FLAT_OUT_UPDATES = QUICK ? 5_000 : 20_000;
const IDLE_CPU_SECONDS = QUICK ? 5 : 20;
const V = { major: 1, minor: 0 };
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// Small utilities

interface Stat {
  min: number;
  median: number;
  max: number;
}

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? (s[Math.floor(mid)] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { min: s[0] ?? NaN, median, max: s[s.length - 1] ?? NaN };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

const CLK_TCK = 100;
function procCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function procStatusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return m ? Number(m[1]) : NaN;
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------------------------------------
// A raw, fast line connection for the load generator (no per-message allocation on reads)

class Conn {
  private lines: string[] = [];
  private waiters: Array<(l: string | null) => void> = [];
  private buf = "";
  private pending: Uint8Array | null = null;
  private drained: Array<() => void> = [];
  closed = false;
  onLine: ((line: string) => void) | null = null;
  socket!: Awaited<ReturnType<typeof Bun.connect>>;

  static async open(path: string): Promise<Conn> {
    const c = new Conn();
    c.socket = await Bun.connect({
      unix: path,
      socket: {
        binaryType: "uint8array",
        data: (_s, chunk: Uint8Array) => c.onData(chunk),
        drain: () => c.flush(),
        close: () => c.onClose(),
        end: () => c.onClose(),
        error: () => c.onClose(),
      },
    });
    return c;
  }

  private onData(chunk: Uint8Array): void {
    this.buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (this.onLine) this.onLine(line);
      else {
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
    for (const d of this.drained.splice(0)) d();
  }

  next(): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.closed) return Promise.resolve(null);
    return new Promise((r) => this.waiters.push(r));
  }

  /** Writes everything, honouring short writes; resolves when the kernel has it all. */
  write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    this.pending = this.pending ? concat(this.pending, bytes) : bytes;
    this.flush();
    if (!this.pending) return Promise.resolve();
    return new Promise((r) => this.drained.push(r));
  }

  private flush(): void {
    if (!this.pending || this.closed) return;
    const n = this.socket.write(this.pending);
    if (n >= 0 && n < this.pending.length) {
      this.pending = this.pending.subarray(n);
      return;
    }
    this.pending = null;
    for (const d of this.drained.splice(0)) d();
  }

  close(): void {
    this.socket.end();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const line = (type: string, fields: Record<string, unknown> = {}) => `${JSON.stringify({ protocol_version: V, type, ...fields })}\n`;

/** A realistic Claude Code status line (the shape PROTOCOL.md §7.2 shows), for pid slot i. */
function statusLine(i: number, seq: number, pidBase: number, stamp = seq): string {
  const sid = `8e11bfb5-7dc2-432b-9206-${String(i).padStart(12, "0")}`;
  return line("status_update", {
    data: {
      session_id: sid,
      transcript_path: `/home/u/.claude/projects/-home-u-code-proj/${sid}.jsonl`,
      cwd: "/nonexistent/bench/proj",
      model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
      workspace: { current_dir: "/nonexistent/bench/proj", project_dir: "/nonexistent/bench/proj" },
      version: "2.0.76",
      output_style: { name: "default" },
      cost: { total_cost_usd: 0.35 + seq / 1e6, total_duration_ms: 135000 + seq, total_api_duration_ms: 50000, total_lines_added: stamp, total_lines_removed: 30 },
      context_window: {
        total_input_tokens: 50000,
        total_output_tokens: 10000,
        context_window_size: 200000,
        current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 + (seq % 1000) },
      },
      exceeds_200k_tokens: false,
      pid: pidBase + i,
      tmux_pane: `%${i}`,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The daemon under test

interface Daemon {
  proc: Subprocess;
  socket: string;
  dir: string;
}

async function ensureBinary(): Promise<void> {
  if (existsSync(ATMD)) return;
  console.error("bench: dist/atmd missing; building it (bun run compile)…");
  const r = Bun.spawnSync(["bun", "run", "compile"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("bench: `bun run compile` failed");
}

async function pingOnce(socket: string): Promise<boolean> {
  try {
    const c = await withTimeout(Conn.open(socket), 500, "connect");
    await c.write(line("connect", { client_id: "bench-probe" }) + line("ping", { seq: 1 }));
    const a = await withTimeout(c.next(), 1000, "reply");
    const b = await withTimeout(c.next(), 1000, "reply");
    c.close();
    return a !== null && b !== null && b.includes('"pong"');
  } catch {
    return false;
  }
}

async function startDaemon(extraEnv: Record<string, string> = {}): Promise<Daemon & { readyMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "atmd-bench-"));
  const socket = join(dir, "atm.sock");
  const t0 = performance.now();
  const proc = Bun.spawn([ATMD, "start", "--foreground"], {
    env: { ...process.env, ATM_SOCKET: socket, XDG_STATE_HOME: join(dir, "state"), HOME: dir, ATM_NO_DISCOVERY: "1", ATM_LOG_LEVEL: "warn", ...extraEnv },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
    cwd: dir,
  });
  const deadline = t0 + 10_000;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}`);
    if (existsSync(socket) && (await pingOnce(socket))) return { proc, socket, dir, readyMs: performance.now() - t0 };
    await Bun.sleep(2);
  }
  throw new Error("daemon did not answer within 10 s");
}

async function stopDaemon(d: Daemon): Promise<void> {
  d.proc.kill("SIGTERM");
  await withTimeout(d.proc.exited, 5000, "daemon exit").catch(() => d.proc.kill("SIGKILL"));
  rmSync(d.dir, { recursive: true, force: true });
}

async function handshake(socket: string, id: string): Promise<Conn> {
  const c = await Conn.open(socket);
  await c.write(line("connect", { client_id: id }));
  const r = await withTimeout(c.next(), 5000, "handshake");
  if (!r?.includes('"connected"')) throw new Error(`handshake failed: ${r}`);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface IngestResult {
  msgsPerSec: number;
  daemonCpuPer100k: number;
  generatorCpuPer100k: number;
}

/** `conns` connections each pipeline `lines` status_update lines over 100 pids, then a ping. */
async function ingest(d: Daemon, conns: number, lines: number): Promise<IngestResult> {
  const payloads = Array.from({ length: conns }, (_, k) => {
    const parts: string[] = [];
    for (let s = 0; s < lines; s++) parts.push(statusLine(s % 100, s, 3_000_000 + k * 1000));
    parts.push(line("ping", { seq: 99 }));
    return enc.encode(parts.join(""));
  });
  const clients = await Promise.all(payloads.map((_, k) => handshake(d.socket, `bench-ingest-${k}`)));
  const cpu0 = procCpuSeconds(d.proc.pid);
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, k) => {
      await c.write(payloads[k] as Uint8Array);
      for (;;) {
        const l = await withTimeout(c.next(), 120_000, "pong");
        if (l === null) throw new Error("connection closed during ingest");
        if (l.includes('"pong"')) break;
        if (l.includes('"error"')) throw new Error(`daemon error during ingest: ${l}`);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const total = conns * lines;
  const cpu = procCpuSeconds(d.proc.pid) - cpu0;
  const self = selfCpuSeconds() - self0;
  for (const c of clients) c.close();
  return { msgsPerSec: total / secs, daemonCpuPer100k: (cpu / total) * 100_000, generatorCpuPer100k: (self / total) * 100_000 };
}

/** A fresh connection per event: connect + hook_event in one write, read `connected`, close. */
async function hookPattern(d: Daemon, events: number, workers: number): Promise<{ eventsPerSec: number; p50: number; p99: number; generatorCpuPct: number }> {
  const lat: number[] = [];
  let next = 0;
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (;;) {
        const i = next++;
        if (i >= events) return;
        const s = performance.now();
        const c = await Conn.open(d.socket);
        const sid = `hook-bench-${i % 100}`;
        await c.write(
          line("connect", { client_id: `hook-${sid}-${w}` }) +
            line("hook_event", { data: { session_id: sid, hook_event_name: i % 2 ? "PreToolUse" : "PostToolUse", tool_name: "Bash", cwd: "/nonexistent/bench", pid: 3_500_000 + (i % 100) } }),
        );
        const r = await withTimeout(c.next(), 5000, "connected");
        lat.push(performance.now() - s);
        if (!r?.includes('"connected"')) throw new Error(`unexpected: ${r}`);
        c.close();
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { eventsPerSec: events / secs, p50: percentile(lat, 50), p99: percentile(lat, 99), generatorCpuPct: ((selfCpuSeconds() - self0) / secs) * 100 };
}

interface FanoutResult {
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  expected: number;
  flatOutDeliveriesPerSec: number;
  flatOutComplete: boolean;
}

/**
 * 10 subscribers and one publisher. Paced phase: `rate` updates/s for `seconds`; each update
 * carries performance.now() (µs) in total_lines_added, which comes back in lines_display, so
 * every delivery's latency is measured. Then flat out: `flat` updates as fast as possible.
 */
async function fanout(d: Daemon, subscribers: number, rate: number, seconds: number, flat: number): Promise<FanoutResult> {
  const lat: number[] = [];
  const counts = new Array<number>(subscribers).fill(0);
  const subs = await Promise.all(Array.from({ length: subscribers }, (_, k) => handshake(d.socket, `bench-sub-${k}`)));
  await Promise.all(
    subs.map(async (s) => {
      await s.write(line("subscribe"));
      const l = await withTimeout(s.next(), 5000, "session_list");
      if (!l?.includes('"session_list"')) throw new Error(`subscribe failed: ${l}`);
    }),
  );
  let measuring = true;
  subs.forEach((s, k) => {
    s.onLine = (l) => {
      if (!l.startsWith('{"type":"session_updated"')) return;
      counts[k] = (counts[k] ?? 0) + 1;
      if (!measuring) return;
      const m = /"lines_display":"\+(\d+) /.exec(l);
      if (m) lat.push(performance.now() - Number(m[1]) / 1000);
    };
  });
  const pub = await handshake(d.socket, "bench-pub");
  // Paced: batches every 10 ms.
  const total = rate * seconds;
  const perBatch = Math.max(1, Math.round(rate / 100));
  let sent = 0;
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + perBatch);
    let batch = "";
    for (; sent < due; sent++) batch += statusLine(sent % 10, sent, 3_800_000, Math.round(performance.now() * 1000));
    if (batch) await pub.write(batch);
    await Bun.sleep(10);
  }
  await waitFor(() => counts.every((c) => c >= total), 10_000);
  const delivered = counts.reduce((a, b) => a + b, 0);
  measuring = false;
  // Flat out.
  counts.fill(0);
  let payload = "";
  for (let i = 0; i < flat; i++) payload += statusLine(i % 10, i, 3_800_000, 1);
  const t0 = performance.now();
  await pub.write(payload);
  const complete = await waitFor(() => counts.every((c) => c >= flat), 60_000);
  const secs = (performance.now() - t0) / 1000;
  const flatDelivered = counts.reduce((a, b) => a + b, 0);
  for (const s of subs) s.close();
  pub.close();
  return {
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: Math.max(...lat),
    delivered,
    expected: total * subscribers,
    flatOutDeliveriesPerSec: flatDelivered / secs,
    flatOutComplete: complete,
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(2);
  }
  return true;
}

async function footprint(): Promise<Record<string, number>> {
  const d = await startDaemon();
  try {
    await Bun.sleep(500);
    const idleKb = procStatusKb(d.proc.pid, "VmRSS");
    const cpu0 = procCpuSeconds(d.proc.pid);
    await Bun.sleep(IDLE_CPU_SECONDS * 1000);
    const idleCpuPct = ((procCpuSeconds(d.proc.pid) - cpu0) / IDLE_CPU_SECONDS) * 100;
    const pub = await handshake(d.socket, "bench-fill");
    let fill = "";
    for (let i = 0; i < 100; i++) fill += statusLine(i, i, 3_900_000);
    await pub.write(fill + line("ping", { seq: 1 }));
    while (!(await pub.next())?.includes("pong")) {
      /* wait */
    }
    const with100Kb = procStatusKb(d.proc.pid, "VmRSS");
    const subs = await Promise.all(Array.from({ length: 10 }, (_, k) => handshake(d.socket, `bench-fp-${k}`)));
    for (const s of subs) {
      await s.write(line("subscribe"));
      await s.next();
    }
    let burst = "";
    for (let i = 0; i < 5000; i++) burst += statusLine(i % 100, i, 3_900_000);
    await pub.write(burst + line("ping", { seq: 2 }));
    while (!(await pub.next())?.includes("pong")) {
      /* wait */
    }
    const with10SubsKb = procStatusKb(d.proc.pid, "VmRSS");
    const peakKb = procStatusKb(d.proc.pid, "VmHWM");
    for (const s of subs) s.close();
    pub.close();
    return { idle_rss_mib: idleKb / 1024, rss_100_sessions_mib: with100Kb / 1024, rss_10_subscribers_mib: with10SubsKb / 1024, peak_rss_mib: peakKb / 1024, idle_cpu_pct: idleCpuPct };
  } finally {
    await stopDaemon(d);
  }
}

interface HookBench {
  rows: Array<{ case: string; daemon: string; median_ms: number }>;
  ratios: Record<string, number>;
}

/** Runs bench/hook.bench.ts (the hook under a fake `claude` parent) and keeps its figures. */
function hookCommand(): { hook_ms: number; empty_ms: number; true_ms: number; reference_ms: number; ratios: Record<string, number> } | { skipped: string } {
  if (argv.includes("--no-hook")) return { skipped: "--no-hook" };
  const r = Bun.spawnSync(["bun", join(ROOT, "bench", "hook.bench.ts"), "--no-build", "--runs", QUICK ? "15" : "40", "--ref-runs", QUICK ? "3" : "8"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines = dec.decode(r.stdout).trim().split("\n");
  try {
    const parsed = JSON.parse(lines[lines.length - 1] ?? "") as HookBench;
    const up = (c: string) => parsed.rows.find((x) => x.case === c && x.daemon === "up")?.median_ms ?? NaN;
    return { hook_ms: up("atmd hook"), empty_ms: up("empty compiled bun"), true_ms: up("/bin/true"), reference_ms: up("reference atm-hook"), ratios: parsed.ratios };
  } catch {
    return { skipped: `bench/hook.bench.ts did not produce JSON (exit ${r.exitCode}): ${dec.decode(r.stderr).slice(0, 300)}` };
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wall0 = performance.now();
  await ensureBinary();
  const results: Record<string, unknown> = { machine: { cores: navigator.hardwareConcurrency, bun: Bun.version }, rounds: ROUNDS, quick: QUICK };
  const rows: Array<[string, string, Stat]> = [];
  const add = (scenario: string, metric: string, xs: number[]) => rows.push([scenario, metric, stat(xs)]);

  const ing: IngestResult[] = [];
  const par: IngestResult[] = [];
  const hooks: Awaited<ReturnType<typeof hookPattern>>[] = [];
  const fans: FanoutResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`bench: round ${r + 1}/${ROUNDS}: ingest…`);
    let d = await startDaemon();
    ing.push(await ingest(d, 1, INGEST_LINES));
    await stopDaemon(d);
    process.stderr.write(" ingest-parallel…");
    d = await startDaemon();
    par.push(await ingest(d, 8, INGEST_LINES / 8));
    await stopDaemon(d);
    process.stderr.write(" hook pattern…");
    d = await startDaemon();
    hooks.push(await hookPattern(d, HOOK_EVENTS, 8));
    await stopDaemon(d);
    process.stderr.write(" fan-out…\n");
    d = await startDaemon();
    fans.push(await fanout(d, 10, 2000, FANOUT_SECONDS, FLAT_OUT_UPDATES));
    await stopDaemon(d);
  }
  add("ingest (1 conn)", "messages/s", ing.map((x) => x.msgsPerSec));
  add("ingest (1 conn)", "daemon CPU s / 100k msgs", ing.map((x) => x.daemonCpuPer100k));
  add("ingest (1 conn)", "generator CPU s / 100k msgs", ing.map((x) => x.generatorCpuPer100k));
  add("ingest (8 conns)", "messages/s", par.map((x) => x.msgsPerSec));
  add("ingest (8 conns)", "daemon CPU s / 100k msgs", par.map((x) => x.daemonCpuPer100k));
  add("ingest (8 conns)", "generator CPU s / 100k msgs", par.map((x) => x.generatorCpuPer100k));
  add("hook pattern (8 workers)", "events/s", hooks.map((x) => x.eventsPerSec));
  add("hook pattern (8 workers)", "connect-to-reply p50 ms", hooks.map((x) => x.p50));
  add("hook pattern (8 workers)", "connect-to-reply p99 ms", hooks.map((x) => x.p99));
  add("hook pattern (8 workers)", "generator CPU %", hooks.map((x) => x.generatorCpuPct));
  add("fan-out 10 subs @2000/s", "latency p50 ms", fans.map((x) => x.p50));
  add("fan-out 10 subs @2000/s", "latency p99 ms", fans.map((x) => x.p99));
  add("fan-out 10 subs @2000/s", "latency max ms", fans.map((x) => x.max));
  add("fan-out flat out", "deliveries/s", fans.map((x) => x.flatOutDeliveriesPerSec));
  results.fanout_every_update_delivered = fans.every((x) => x.delivered === x.expected && x.flatOutComplete);

  process.stderr.write("bench: footprint…\n");
  const fp = await footprint();
  for (const [k, v] of Object.entries(fp)) add("footprint", k, [v]);

  process.stderr.write("bench: startup…\n");
  const starts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const d = await startDaemon();
    starts.push(d.readyMs);
    await stopDaemon(d);
  }
  add("startup", "spawn to first pong ms (10 runs)", starts);

  process.stderr.write("bench: hook command…\n");
  const hook = hookCommand();
  results.hook_command = hook;
  if ("hook_ms" in hook) {
    add("atmd hook (daemon up)", "median wall ms", [hook.hook_ms]);
    add("atmd hook (daemon up)", "empty compiled bun ms", [hook.empty_ms]);
    add("atmd hook (daemon up)", "/bin/true ms", [hook.true_ms]);
    add("atmd hook (daemon up)", "hook / empty program", [hook.hook_ms / hook.empty_ms]);
    if (!Number.isNaN(hook.reference_ms)) add("atmd hook (daemon up)", "hook / reference atm-hook", [hook.hook_ms / hook.reference_ms]);
  }

  results.table = rows.map(([scenario, metric, s]) => ({ scenario, metric, ...s }));
  results.total_seconds = (performance.now() - wall0) / 1000;

  const fmt = (n: number) => (Number.isNaN(n) ? "-" : n >= 1000 ? Math.round(n).toLocaleString("en-US") : n >= 10 ? n.toFixed(1) : n.toFixed(3));
  const w = [26, 34, 12, 12, 12];
  const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));
  console.log([pad("scenario", w[0]!), pad("metric", w[1]!), pad("min", w[2]!, true), pad("median", w[3]!, true), pad("max", w[4]!, true)].join(" "));
  console.log("-".repeat(w.reduce((a, b) => a + b + 1, 0)));
  for (const [scenario, metric, s] of rows) {
    console.log([pad(scenario, w[0]!), pad(metric, w[1]!), pad(fmt(s.min), w[2]!, true), pad(fmt(s.median), w[3]!, true), pad(fmt(s.max), w[4]!, true)].join(" "));
  }
  console.log(`every subscriber got every update: ${results.fanout_every_update_delivered ? "yes" : "NO"}`);
  console.log(`total ${((performance.now() - wall0) / 1000).toFixed(0)} s`);
  writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results));
}

await main();
