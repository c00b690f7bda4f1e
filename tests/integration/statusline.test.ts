// `atmd statusline` (DAEMON.md §11): prints the user's previous status line (or the built-in
// one) and forwards the JSON as a status_update.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, startDaemon, stopAll, tempDir } from "../helpers/daemon.ts";

afterAll(stopAll);

const SID = "5b1c0c1e-0000-4000-8000-000000000001";
const STATUS = JSON.stringify({
  session_id: SID,
  cwd: "/home/u/code/proj",
  model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
  workspace: { current_dir: "/home/u/code/proj" },
  cost: { total_cost_usd: 0.35, total_duration_ms: 1000 },
  context_window: { context_window_size: 200000, current_usage: { input_tokens: 1000, cache_read_input_tokens: 40000, cache_creation_input_tokens: 2000 } },
});
const BUILTIN = "Opus 4.5 · proj · ctx 21.5% · $0.35\n";

function envFor(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: join(dir, "home"),
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_STATE_HOME: join(dir, "state"),
    ATM_SOCKET: join(dir, "none.sock"),
    ...extra,
  };
}

function stash(dir: string, previous: unknown): void {
  mkdirSync(join(dir, "config", "atm"), { recursive: true });
  writeFileSync(join(dir, "config", "atm", "statusline.json"), JSON.stringify({ previous, saved_at: "x" }));
}

async function run(env: Record<string, string>, input = STATUS, cmd: string[] = [BUN, MAIN, "statusline"]) {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { env, stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code, ms: performance.now() - t0 };
}

describe("atmd statusline output", () => {
  test("no stash: the built-in line", async () => {
    const dir = tempDir();
    expect(await run(envFor(dir))).toMatchObject({ stdout: BUILTIN, code: 0 });
    expect((await run(envFor(dir), "not json")).stdout).toBe("atm\n");
  });

  test("previous command gets the same stdin and ATM_STATUSLINE_CHILD=1; output verbatim", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: `jq -j '"[" + .model.id + "] child=" + env.ATM_STATUSLINE_CHILD'`, padding: 0 });
    const r = await run(envFor(dir));
    expect(r).toMatchObject({ stdout: "[claude-opus-4-5-20251101] child=1", code: 0 });
  });

  test("a failing command that printed is still shown; one that printed nothing falls back", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: "printf 'partial'; exit 3" });
    expect((await run(envFor(dir))).stdout).toBe("partial");
    stash(dir, { type: "command", command: "echo oops >&2; exit 1" });
    const r = await run(envFor(dir));
    expect(r.stdout).toBe(BUILTIN);
    expect(r.stderr).toBe("oops\n");
    stash(dir, { type: "command", command: "/nonexistent/statusline.sh" });
    expect((await run(envFor(dir))).stdout).toBe(BUILTIN);
  });

  test("a command that prints nothing and exits 0 prints nothing", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: "cat >/dev/null" });
    expect(await run(envFor(dir))).toMatchObject({ stdout: "", code: 0 });
  });

  test("a stashed `atmd statusline` is not chained (no loop)", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: "/somewhere/atmd statusline" });
    expect((await run(envFor(dir))).stdout).toBe(BUILTIN);
  });

  test("ATM_STATUSLINE_CHILD set: built-in line, no chaining", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: "echo chained" });
    expect((await run(envFor(dir, { ATM_STATUSLINE_CHILD: "1" }))).stdout).toBe(BUILTIN);
  });

  test("a hanging command is killed after 10 s with its children; built-in line", async () => {
    const dir = tempDir();
    stash(dir, { type: "command", command: "sleep 60 & sleep 60" });
    const r = await run(envFor(dir));
    expect(r.stdout).toBe(BUILTIN);
    expect(r.ms).toBeGreaterThan(9_500);
    expect(r.ms).toBeLessThan(12_000);
  }, 20_000);
});

describe("forwarding", () => {
  test("creates the session under a claude parent, and still prints the user's line", async () => {
    const d = await startDaemon();
    stash(d.dir, { type: "command", command: "printf mine" });
    const claude = join(d.dir, "claude");
    copyFileSync("/bin/sh", claude);
    const payload = join(d.dir, "status.json");
    writeFileSync(payload, STATUS);
    const p = Bun.spawn([claude, "-c", `'${BUN}' '${MAIN}' statusline < '${payload}'`], {
      env: { ...d.env, XDG_CONFIG_HOME: join(d.dir, "config"), TMUX_PANE: "%7" },
      stdout: "pipe",
    });
    expect(await new Response(p.stdout).text()).toBe("mine");
    expect(await p.exited).toBe(0);
    let found: Record<string, unknown> | undefined;
    for (let i = 0; i < 30 && !found; i++) {
      const c = await d.client();
      c.request("list_sessions");
      const m = await c.expect("session_list", 3000);
      c.close();
      found = (m.sessions as Record<string, unknown>[]).find((s) => s.id === SID);
      if (!found) await Bun.sleep(50);
    }
    expect(found?.model).toBe("Opus 4.5");
    expect(found?.tmux_pane).toBe("%7");
  });
});
