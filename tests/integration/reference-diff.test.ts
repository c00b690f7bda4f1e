// Differential test: the same well-formed session traffic to the reference ATM 0.2.2 daemon
// (../shared/reference/bin/atmd, next to the repo in the team's workspace) and to atmd, each on a
// private socket; the replies must have the same message types, the same SessionView keys (atmd
// adds `harness`, SESSIONS.md §7.1 #32) and the same values where the spec keeps the reference's
// behaviour. Time-dependent values (timestamps, relative-time strings) are never compared. The
// reference lists real `claude` processes it finds on the machine, so only our own sessions are
// compared. Skipped when the reference binary is absent (a user's fresh clone).
import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectClient, openClient, type LineClient } from "../helpers/client.ts";
import { ROOT, msg, privateEnv, readUntil, startDaemon, stopAll, tempDir, waitReady, withTimeout } from "../helpers/daemon.ts";

const REF = resolve(ROOT, "../shared/reference/bin/atmd");
const HAVE_REF = existsSync(REF);
const SKIP_REASON = HAVE_REF ? "" : ` [skipped: reference daemon not found at ${REF}]`;

const MODEL = { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" };
const sleepers: Subprocess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

function livePid(): number {
  const p = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  sleepers.push(p);
  return p.pid;
}

afterAll(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
  for (const p of sleepers.splice(0)) p.kill("SIGKILL");
  await stopAll();
});

async function startReference(): Promise<string> {
  const dir = tempDir("atmd-ref-");
  mkdirSync(join(dir, "home"), { recursive: true });
  const env = privateEnv(dir, { ATM_SOCKET: join(dir, "ref.sock"), RUST_LOG: "warn" });
  const proc = Bun.spawn([REF, "start"], { env, cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  cleanups.push(async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    try {
      await withTimeout(proc.exited, 5000, "reference exit");
    } catch {
      proc.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const socket = env.ATM_SOCKET as string;
  await waitReady(socket, proc, () => err);
  return socket;
}

type Msg = Record<string, unknown>;

/** Values both daemons must agree on for a session created from a status line (no hooks, no git). */
const STABLE_FIELDS = [
  "id", "id_short", "agent_type", "model", "status", "status_label", "activity_detail", "should_blink", "status_icon",
  "context_percentage", "context_display", "context_warning", "context_critical", "cost_display", "cost_usd",
  "duration_display", "duration_seconds", "lines_display", "working_directory", "needs_attention",
];

function ours(sessions: Msg[], prefix: string): Msg[] {
  return sessions.filter((s) => (s.id as string).startsWith(prefix)).sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
}

/** What the script observed on one daemon, reduced to comparable facts. */
interface Observed {
  types: string[];
  connected: Msg;
  pong: Msg;
  listKeys: string[][];
  listValues: Msg[];
  updatedKeys: string[];
  updatedValues: Msg;
  filteredIds: string[];
}

async function script(socket: string, pidA: number, pidB: number): Promise<Observed> {
  const types: string[] = [];
  const rec = (m: Msg | null): Msg => {
    if (m === null) throw new Error("connection closed");
    types.push(m.type as string);
    return m;
  };
  const c = await openClient(socket, "diff");
  const sub = await openClient(socket, "diff-sub");
  try {
    // The handshake reply, recorded on a fresh connection.
    const x = await connectClient(socket);
    x.send(msg("connect", { client_id: "diff-id" }));
    const connected = rec(await x.next());
    x.close();

    c.request("status_update", {
      data: {
        session_id: "diff-a", pid: pidA, model: MODEL, cwd: "/tmp", version: "2.0.76",
        cost: { total_cost_usd: 0.35, total_duration_ms: 135000, total_api_duration_ms: 50000, total_lines_added: 150, total_lines_removed: 30 },
        context_window: {
          total_input_tokens: 50000, total_output_tokens: 10000, context_window_size: 200000,
          current_usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 40000 },
        },
      },
    });
    c.request("status_update", { data: { session_id: "diff-b", pid: pidB, model: MODEL, cwd: "/tmp/very/long/path/to/some/project/dir" } });
    c.request("ping", { seq: 5 });
    const pong = rec(await c.next());
    c.request("list_sessions");
    const list = rec(await readUntil(c, (m) => m.type === "session_list").then((s) => s.at(-1) as Msg));
    const mine = ours(list.sessions as Msg[], "diff-");

    // A filtered subscription: compare only which of our sessions the initial list holds.
    sub.request("subscribe", { session_id: "diff-a" });
    const initial = rec(await sub.next());
    const filteredIds = ours(initial.sessions as Msg[], "diff-").map((s) => s.id as string);
    // An update to the filtered session reaches the subscriber as session_updated. It is a full
    // status line: on a partial one the reference zeroes the missing groups and atmd keeps them
    // (SESSIONS.md §15, "Partial status line").
    c.request("status_update", {
      data: {
        session_id: "diff-a", pid: pidA, model: MODEL,
        cost: { total_cost_usd: 1.5, total_duration_ms: 200000, total_lines_added: 7, total_lines_removed: 2 },
        context_window: { total_input_tokens: 1, context_window_size: 200000, current_usage: { input_tokens: 170000 } },
      },
    });
    const updated = rec(
      (await readUntil(sub, (m) => m.type === "session_updated" && (m.session as Msg).id === "diff-a", 5000)).at(-1) as Msg,
    );
    const u = updated.session as Msg;
    return {
      types,
      connected,
      pong,
      listKeys: mine.map((s) => Object.keys(s)),
      listValues: mine.map((s) => Object.fromEntries(STABLE_FIELDS.map((k) => [k, s[k]]))),
      updatedKeys: Object.keys(u),
      updatedValues: Object.fromEntries(STABLE_FIELDS.map((k) => [k, u[k]])),
      filteredIds,
    };
  } finally {
    c.close();
    sub.close();
  }
}

describe("reference daemon differential", () => {
  test.skipIf(!HAVE_REF)(
    `same session traffic → same message types, SessionView keys and stable values${SKIP_REASON}`,
    async () => {
      const refSocket = await startReference();
      const atmd = await startDaemon();
      const pidA = livePid();
      const pidB = livePid();
      const ref = await script(refSocket, pidA, pidB);
      const ours_ = await script(atmd.socket, pidA, pidB);

      expect(ours_.types).toEqual(ref.types);
      expect(ours_.types).toEqual(["connected", "pong", "session_list", "session_list", "session_updated"]);
      expect(ours_.connected).toEqual(ref.connected);
      expect(ours_.pong).toEqual(ref.pong);

      // SessionView keys: the reference's, in the same order, plus `harness` at the end.
      expect(ref.listKeys.length).toBe(2);
      expect(ours_.listKeys.length).toBe(2);
      for (let i = 0; i < 2; i++) {
        expect(ours_.listKeys[i]).toEqual([...(ref.listKeys[i] as string[]), "harness"]);
      }
      expect(ours_.updatedKeys).toEqual([...ref.updatedKeys, "harness"]);

      // Values the spec keeps identical (numbers compare by value: 135 == 135.0).
      expect(ours_.listValues).toEqual(ref.listValues);
      expect(ours_.updatedValues).toEqual(ref.updatedValues);

      // Spec'd difference (§10.1): atmd filters the initial list; the reference does not.
      expect(ours_.filteredIds).toEqual(["diff-a"]);
      expect(ref.filteredIds).toEqual(["diff-a", "diff-b"]);
    },
    60_000,
  );

  test.skipIf(!HAVE_REF)(`both answer the hook pattern (connect + data, then close)${SKIP_REASON}`, async () => {
    const refSocket = await startReference();
    const atmd = await startDaemon();
    const results: string[][] = [];
    for (const socket of [refSocket, atmd.socket]) {
      const pid = livePid();
      const c = await connectClient(socket);
      c.send(msg("connect") + msg("status_update", { data: { session_id: "diff-hook", pid, model: MODEL, cwd: "/tmp" } }));
      // Keep reading until the daemon has answered `connected` (the reference needs this, §4.6).
      expect((await c.next())?.type).toBe("connected");
      c.close();
      const o: LineClient = await openClient(socket, "observer");
      const deadline = performance.now() + 5000;
      let found: string[] = [];
      while (performance.now() < deadline) {
        o.request("list_sessions");
        const l = await o.expect("session_list");
        found = ours(l.sessions as Msg[], "diff-hook").map((s) => s.id as string);
        if (found.length > 0) break;
        await Bun.sleep(20);
      }
      o.close();
      results.push(found);
    }
    expect(results).toEqual([["diff-hook"], ["diff-hook"]]);
  }, 60_000);
});
