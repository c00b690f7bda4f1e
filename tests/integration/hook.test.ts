// `atmd hook` end to end (DAEMON.md §10): a process named `claude` runs the hook; the daemon's
// session must carry that pid and the tmux pane. Fail-open cases: no daemon, a daemon that never
// reads, 5 MB of stdin, garbage — exit 0, nothing printed, within the deadline.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, REFERENCE_BIN, type TestDaemon, startDaemon, stopAll, tempDir } from "../helpers/daemon.ts";

const REF_HOOK = join(REFERENCE_BIN, "atm-hook");

afterEach(stopAll);
afterAll(stopAll);

const SID = "8e11bfb5-7dc2-432b-9206-928fa5c35731";

/**
 * Extra environment for every hook run of the current suite: the suites run once with the libc
 * binding (the default on Linux) and once with ATM_HOOK_NO_FFI=1 (node:fs and Bun.connect).
 */
let ioEnv: Record<string, string> = {};

interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  claudePid: number;
}

/** Runs `hookCmd` as a child of a copy of sh named `claude`, payload on stdin. */
async function underClaude(
  dir: string,
  env: Record<string, string>,
  payload: string | Uint8Array,
  hookCmd?: string,
  keepAlive?: { proc?: Bun.Subprocess },
): Promise<HookRun> {
  const claude = join(dir, "claude");
  if (!existsSync(claude)) copyFileSync("/bin/sh", claude);
  const payloadFile = join(dir, `payload-${Math.random()}`);
  writeFileSync(payloadFile, payload);
  const cmd = hookCmd ?? `'${BUN}' '${MAIN}' hook`;
  // The claude shell reports its pid, then times the hook (which is its child, not exec'd).
  const res = join(dir, "res");
  const script = `echo $$ > '${res}'; s=$(date +%s%N); ${cmd} < '${payloadFile}' > '${dir}/out' 2> '${dir}/err'; c=$?; e=$(date +%s%N); echo "$c $(( (e - s) / 1000000 ))" >> '${res}'${keepAlive ? "; exec sleep 30" : ""}`;
  const p = Bun.spawn([claude, "-c", script], { env: { ...env, ...ioEnv, TMUX_PANE: "%7" }, stdout: "inherit", stderr: "inherit" });
  if (keepAlive) {
    keepAlive.proc = p;
    for (let i = 0; i < 200 && !(existsSync(res) && readFileSync(res, "utf8").trim().includes("\n")); i++) await Bun.sleep(10);
  } else {
    await p.exited;
  }
  const text = readFileSync(res, "utf8");
  const [pidLine, result] = text.trim().split("\n");
  const [code, ms] = (result ?? "").split(" ").map(Number);
  return {
    code: code ?? null,
    ms: ms ?? NaN,
    stdout: readFileSync(join(dir, "out"), "utf8"),
    stderr: readFileSync(join(dir, "err"), "utf8"),
    claudePid: Number(pidLine),
  };
}

async function sessions(d: TestDaemon): Promise<Record<string, unknown>[]> {
  const c = await d.client();
  c.request("list_sessions");
  const m = await c.expect("session_list", 3000);
  c.close();
  return m.sessions as Record<string, unknown>[];
}

async function waitSession(d: TestDaemon, pred: (s: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 50; i++) {
    const s = (await sessions(d)).find(pred);
    if (s) return s;
    await Bun.sleep(40);
  }
  return undefined;
}

const status = {
  session_id: SID,
  cwd: "/tmp",
  model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
  cost: { total_cost_usd: 0.35, total_duration_ms: 1000 },
};
const pre = {
  session_id: SID,
  transcript_path: "/tmp/t.jsonl",
  cwd: "/tmp",
  permission_mode: "default",
  hook_event_name: "PreToolUse",
  tool_name: "Bash",
  tool_input: { command: "ls" },
  tool_use_id: "toolu_01ABC",
};

const IO: [string, Record<string, string>][] = [
  ["libc", {}],
  ["node:fs fallback", { ATM_HOOK_NO_FFI: "1" }],
];

for (const [io, extra] of IO) {
  describe(`atmd hook against a real daemon (${io})`, () => {
    beforeEach(() => {
      ioEnv = extra;
    });
    test("wire format: connect + data in one go, claude pid, pane, big fields dropped", async () => {
      const dir = tempDir();
      const sock = join(dir, "rec.sock");
      let got = "";
      let ended!: () => void;
      const done = new Promise<void>((r) => (ended = r));
      const server = Bun.listen({
        unix: sock,
        socket: {
          data(_s, b) {
            got += b.toString();
          },
          close() {
            ended();
          },
        },
      });
      try {
        const r = await underClaude(dir, { PATH: process.env.PATH ?? "", ATM_SOCKET: sock }, JSON.stringify({ ...pre, pid: 1, tmux_pane: "%0" }));
        await Promise.race([done, Bun.sleep(1000)]);
        expect(r.code).toBe(0);
        const lines = got.split("\n");
        expect(lines).toHaveLength(3);
        expect(lines[2]).toBe("");
        expect(lines[0]).toMatch(new RegExp(`^\\{"protocol_version":\\{"major":1,"minor":0\\},"type":"connect","client_id":"hook-${SID}-\\d+"\\}$`));
        const { tool_input: _, ...rest } = pre;
        expect(lines[1]).toBe(
          JSON.stringify({ protocol_version: { major: 1, minor: 0 }, type: "hook_event", data: { ...rest, pid: r.claudePid, tmux_pane: "%7" } }),
        );
      } finally {
        server.stop(true);
      }
    });

    test("session gets the claude pid and the tmux pane", async () => {
      const d = await startDaemon();
      const r1 = await underClaude(d.dir, d.env, JSON.stringify(status)); // status_update (no event name)
      const alive: { proc?: Bun.Subprocess } = {};
      const r2 = await underClaude(d.dir, d.env, JSON.stringify(pre), undefined, alive);
      for (const r of [r1, r2]) {
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe("");
      }
      const s = await waitSession(d, (x) => x.id === SID && x.activity_detail === "Bash");
      expect(s).toBeDefined();
      expect(s?.tmux_pane).toBe("%7");
      // The view has no pid: prove it through liveness. The claude process is still alive (now
      // `exec sleep`), so the session stays; once it is killed, the cleanup tick removes it.
      await Bun.sleep(2500);
      expect((await sessions(d)).find((x) => x.id === SID)).toBeDefined();
      alive.proc?.kill("SIGKILL");
      await alive.proc?.exited;
      let gone = false;
      for (let i = 0; i < 40 && !gone; i++) {
        gone = (await sessions(d)).find((x) => x.id === SID) === undefined;
        if (!gone) await Bun.sleep(100);
      }
      expect(gone).toBe(true);
    });

    test("stdin as Claude Code gives it: a socketpair, shut down at once or 30 ms later", async () => {
      // Node's and Bun's child_process give a child a socketpair for a "pipe" stdin; the claude
      // here is bun itself (a symlink named claude), spawning the hook exactly that way. The late
      // shutdown makes the hook find the data but no EOF yet, and read the rest from the stream.
      const d = await startDaemon();
      const claude = join(d.dir, "claude-bun", "claude");
      mkdirSync(join(d.dir, "claude-bun"));
      symlinkSync(BUN, claude);
      const script = join(d.dir, "cc.ts");
      writeFileSync(
        script,
        `const [late, payload] = [Number(process.argv[2]), process.argv[3]];
         const p = Bun.spawn([${JSON.stringify(BUN)}, ${JSON.stringify(MAIN)}, "hook"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
         p.stdin.write(payload);
         p.stdin.flush();
         if (late > 0) await Bun.sleep(late);
         await p.stdin.end();
         const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
         console.log(JSON.stringify({ code, out, err }));`,
      );
      for (const [late, tool] of [
        [0, "Read"],
        [30, "Grep"],
      ] as const) {
        const cc = Bun.spawn([claude, script, String(late), JSON.stringify({ ...pre, tool_name: tool })], {
          env: { ...d.env, ...ioEnv, TMUX_PANE: "%7" },
          stdout: "pipe",
          stderr: "inherit",
        });
        expect(JSON.parse(await new Response(cc.stdout).text())).toEqual({ code: 0, out: "", err: "" });
        const s = await waitSession(d, (x) => x.id === SID && x.activity_detail === tool);
        expect(s?.tmux_pane).toBe("%7");
      }
    });

    test("a hook event alone reaches the daemon (connect + data, then gone)", async () => {
      const d = await startDaemon();
      const sub = await d.client();
      sub.request("subscribe");
      const r = await underClaude(d.dir, d.env, JSON.stringify({ ...pre, hook_event_name: "UserPromptSubmit", prompt: "x".repeat(2000) }));
      expect(r.code).toBe(0);
      // Whatever the registry makes of it, the daemon counted the event.
      const c = await d.client();
      c.request("stats");
      const st = await c.expect("stats", 3000);
      c.close();
      sub.close();
      expect((st.counters as Record<string, number>).hook_events).toBe(1);
    });

    test("ATM_DEBUG=1 writes one line per invocation, no payload", async () => {
      const d = await startDaemon();
      const r = await underClaude(d.dir, { ...d.env, ATM_DEBUG: "1" }, JSON.stringify(pre));
      expect(r.code).toBe(0);
      const log = readFileSync(join(d.stateDir, "atm-hook.log"), "utf8");
      expect(log).toMatch(new RegExp(`^\\S+ hook hook_event PreToolUse session=8e11bfb5 pid=${r.claudePid} sent \\d+ms\\n$`));
    });

  });

  describe(`fail-open (${io})`, () => {
    beforeEach(() => {
      ioEnv = extra;
    });
    // `bun src/main.ts` start-up (transpiling) is inside the measured time here; the compiled
    // binary's 100 ms budget is checked by bench/hook.bench.ts. Allow generous slack for it.
    const LIMIT_MS = 600;

    function expectQuiet(r: HookRun): void {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe("");
      expect(r.ms).toBeLessThan(LIMIT_MS);
    }

    test("no daemon, no socket", async () => {
      const dir = tempDir();
      expectQuiet(await underClaude(dir, { PATH: process.env.PATH ?? "", ATM_SOCKET: join(dir, "none.sock") }, JSON.stringify(pre)));
    });

    test("garbage, empty, non-object and id-less stdin", async () => {
      const dir = tempDir();
      const env = { PATH: process.env.PATH ?? "", ATM_SOCKET: join(dir, "none.sock") };
      for (const p of ["\x00\xff garbage {", "", "[1,2]", '"x"', '{"hook_event_name":"Stop"}', '{"session_id":""}']) {
        expectQuiet(await underClaude(dir, env, p));
      }
    });

    test("5 MB of stdin with a daemon up: forwarded without the big fields", async () => {
      const d = await startDaemon();
      await underClaude(d.dir, d.env, JSON.stringify(status));
      const big = { ...pre, tool_name: "Read", tool_response: { content: "y".repeat(5 * 1024 * 1024) } };
      expectQuiet(await underClaude(d.dir, d.env, JSON.stringify(big)));
      expect(await waitSession(d, (x) => x.id === SID && x.activity_detail === "Read")).toBeDefined();
    });

    test("a daemon that accepts and never reads: exits at the deadline", async () => {
      const dir = tempDir();
      const sock = join(dir, "stall.sock");
      let accepted = 0;
      const server = Bun.listen({
        unix: sock,
        socket: {
          open(s) {
            accepted++;
            s.pause();
          },
          data() {},
        },
      });
      try {
        // ~900 KB in a field that is kept: more than the socket buffer takes without a reader.
        const payload = JSON.stringify({ ...pre, transcript_path: "t".repeat(900_000) });
        const r = await underClaude(dir, { PATH: process.env.PATH ?? "", ATM_SOCKET: sock }, payload);
        expectQuiet(r);
        expect(accepted).toBe(1);
      } finally {
        server.stop(true);
      }
    });

    test.if(process.getuid?.() === 0)("a socket owned by another user gets nothing", async () => {
      const dir = tempDir();
      mkdirSync(join(dir, "s"));
      const sock = join(dir, "s", "atm.sock");
      let accepted = 0;
      const server = Bun.listen({ unix: sock, socket: { open() { accepted++; }, data() {} } });
      try {
        chownSync(sock, 65534, 65534);
        expectQuiet(await underClaude(dir, { PATH: process.env.PATH ?? "", ATM_SOCKET: sock }, JSON.stringify(pre)));
        await Bun.sleep(50);
        expect(accepted).toBe(0);
      } finally {
        server.stop(true);
      }
    });

    test("no claude ancestor: nothing sent", async () => {
      const d = await startDaemon();
      const p = Bun.spawn([BUN, MAIN, "hook"], { env: { ...d.env, ...ioEnv, TMUX_PANE: "%7" }, stdin: new TextEncoder().encode(JSON.stringify(status)), stdout: "pipe", stderr: "pipe" });
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stdout).text()).toBe("");
      await Bun.sleep(100);
      expect((await sessions(d)).find((s) => s.id === SID)).toBeUndefined();
    });
  });
}

describe("the reference hook", () => {
  beforeEach(() => {
    ioEnv = {};
  });
  test.if(Bun.which("socat") !== null && Bun.which("jq") !== null && existsSync(REF_HOOK))(
    `the reference atm-hook wire format is accepted${
      existsSync(REF_HOOK) ? (Bun.which("socat") && Bun.which("jq") ? "" : " [needs socat and jq]") : ` [reference script not found at ${REF_HOOK}]`
    }`,
    async () => {
      const d = await startDaemon();
      const r1 = await underClaude(d.dir, d.env, JSON.stringify(status), REF_HOOK);
      const r2 = await underClaude(d.dir, d.env, JSON.stringify(pre), REF_HOOK);
      expect(r1.code).toBe(0);
      expect(r2.code).toBe(0);
      const s = await waitSession(d, (x) => x.id === SID && x.activity_detail === "Bash");
      expect(s?.tmux_pane).toBe("%7");
    },
  );
});
