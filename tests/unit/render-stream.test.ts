// The client-side session stream (src/transport/session-stream.ts) against a fake daemon:
// SessionSet applies list/updated/removed like the reference TUI; SessionStream hands on every
// line, reports one outage per loss, reconnects with back-off and subscribes again.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionView } from "../../src/registry/types.ts";
import { toView } from "../../src/cli/render/sessions.ts";
import { requestOnce, SessionSet, SessionStream, DaemonError } from "../../src/transport/session-stream.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sockPath(): string {
  const d = mkdtempSync(join(tmpdir(), "atmd-stream-"));
  dirs.push(d);
  return join(d, "s.sock");
}

/** A fake daemon: `connected` for connect, a session_list for subscribe/list_sessions, stats. */
function fakeDaemon(path: string, sessions: unknown[] = []) {
  const seen: string[] = [];
  const server = Bun.listen<{ buf: string }>({
    unix: path,
    socket: {
      open(s) {
        s.data = { buf: "" };
      },
      data(s, chunk) {
        s.data.buf += new TextDecoder().decode(chunk);
        let i: number;
        while ((i = s.data.buf.indexOf("\n")) >= 0) {
          const m = JSON.parse(s.data.buf.slice(0, i)) as { type: string };
          s.data.buf = s.data.buf.slice(i + 1);
          seen.push(m.type);
          if (m.type === "connect") s.write('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"atmd-cli"}\n');
          if (m.type === "subscribe" || m.type === "list_sessions") s.write(`${JSON.stringify({ type: "session_list", sessions })}\n`);
          if (m.type === "stats") s.write('{"type":"stats","pid":1}\n');
        }
      },
    },
  });
  return { server, seen };
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("SessionSet", () => {
  test("list replaces, updated inserts or replaces, removed deletes", () => {
    const set = new SessionSet<SessionView>(toView);
    expect(set.apply({ type: "session_list", sessions: [{ id: "a" }, { id: "b" }, { nope: 1 }] })).toBe(true);
    expect(set.views.map((v) => v.id)).toEqual(["a", "b"]);
    expect(set.apply({ type: "session_updated", session: { id: "a", status: "working" } })).toBe(true);
    expect(set.byId.get("a")?.status).toBe("working");
    expect(set.apply({ type: "session_updated", session: { id: "c" } })).toBe(true);
    expect(set.apply({ type: "session_removed", session_id: "b" })).toBe(true);
    expect(set.apply({ type: "session_removed", session_id: "zzz" })).toBe(false);
    expect(set.apply({ type: "pong" })).toBe(false);
    expect(set.views.map((v) => v.id)).toEqual(["a", "c"]);
    set.apply({ type: "session_list", sessions: [] });
    expect(set.views).toEqual([]);
  });
});

describe("requestOnce", () => {
  test("reply, and the failure kinds", async () => {
    const path = sockPath();
    const { server, seen } = fakeDaemon(path);
    try {
      const r = await requestOnce(path, "stats", "stats");
      expect(r.line).toBe('{"type":"stats","pid":1}');
      await until(() => seen.includes("disconnect"));
      expect(seen).toEqual(["connect", "stats", "disconnect"]);
    } finally {
      server.stop(true);
    }
    const err = await requestOnce(join(path, "..", "missing.sock"), "stats", "stats").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonError);
    expect((err as DaemonError).kind).toBe("down");

    const silentPath = sockPath();
    const silent = Bun.listen({ unix: silentPath, socket: { data() {} } });
    try {
      const e2 = await requestOnce(silentPath, "stats", "stats", { replyTimeoutMs: 100 }).catch((e: unknown) => e);
      expect((e2 as DaemonError).kind).toBe("timeout");
    } finally {
      silent.stop(true);
    }
  });
});

describe("SessionStream", () => {
  test("reconnects after the daemon goes away, one outage report, subscribes again", async () => {
    const path = sockPath();
    let fake = fakeDaemon(path, [{ id: "one" }]);
    const lines: string[] = [];
    let outages = 0;
    let ups = 0;
    const stream = new SessionStream(
      path,
      {
        onLine: (l) => lines.push(l),
        onConnected: () => ups++,
        onDisconnected: () => outages++,
      },
      { sessionId: "one", initialBackoffMs: 20, maxBackoffMs: 80 },
    );
    await stream.open();
    const running = stream.run();
    await until(() => lines.some((l) => l.includes("session_list")));
    expect(fake.seen).toEqual(["connect", "subscribe"]);
    expect(lines[0]).toContain('"connected"');

    // The daemon goes away for a while: several failed attempts, one outage report.
    fake.server.stop(true);
    await until(() => outages === 1);
    await Bun.sleep(300);
    expect(outages).toBe(1);
    expect(stream.connected).toBe(false);

    rmSync(path, { force: true });
    fake = fakeDaemon(path, [{ id: "two" }]);
    await until(() => lines.some((l) => l.includes('"two"')));
    expect(ups).toBe(2);
    expect(fake.seen).toEqual(["connect", "subscribe"]);

    stream.stop();
    await running;
    fake.server.stop(true);
  });

  test("stop() during back-off returns at once", async () => {
    const path = sockPath();
    const stream = new SessionStream(path, { onLine() {} }, { initialBackoffMs: 60_000 });
    const running = stream.run();
    await Bun.sleep(50);
    const t0 = performance.now();
    stream.stop();
    await running;
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
