// Port of the reference daemon's robustness suite (../shared/reference/robustness_tests.rs, ATM
// 0.2.2) as black-box tests against the real atmd process. Each test names the Rust case whose
// intent it carries. Where the Rust case accepted two outcomes ("error or close", "pong or
// error"), the test asserts the one PROTOCOL.md gives atmd, exactly.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { connectClient, type LineClient } from "../helpers/client.ts";
import { barrier, errLine, expectClosed, killSleepers, livePid } from "../helpers/protocol.ts";
import { msg, readUntil, startDaemon, stopAll, type TestDaemon } from "../helpers/daemon.ts";

const MODEL = { id: "claude-sonnet-4-20250514", display_name: "Sonnet 4" };





// Like the Rust TestServer: a fresh daemon per test.
let d: TestDaemon;
beforeEach(async () => {
  d = await startDaemon();
});
afterEach(async () => {
  killSleepers();
  await d.stop();
  rmSync(d.dir, { recursive: true, force: true });
});
afterAll(stopAll);

/** The daemon still serves: a new client handshakes and gets a pong. Returns its client id. */
async function stillServing(clientId?: string): Promise<string> {
  const c = await connectClient(d.socket);
  const connected = await c.handshake(clientId);
  expect(await barrier(c, 77)).toEqual([{ type: "pong", seq: 77 }]);
  c.close();
  expect(d.proc.exitCode).toBeNull();
  return connected.client_id as string;
}

// ---------------------------------------------------------------------------------------------

describe("malformed messages", () => {
  // test_malformed_json_handled_gracefully: the reference closes silently; atmd answers
  // invalid_json and closes (first line, §4.2 rule 1). The daemon survives.
  test("test_malformed_json_handled_gracefully", async () => {
    const c = await connectClient(d.socket);
    c.send("this is not valid json\n");
    const m = await c.next();
    expect(m?.type).toBe("error");
    expect(m?.code).toBe("invalid_json");
    expect(m?.message as string).toStartWith("Invalid JSON: ");
    await expectClosed(c);
    expect(await stillServing("after-malformed")).toBe("after-malformed");
  });

  // test_empty_line_handled: an empty line is ignored (§3.1) — no reply, no close, and it does
  // not count as the handshake: the same connection can still connect.
  test("test_empty_line_handled", async () => {
    const c = await connectClient(d.socket);
    c.send("\n");
    c.send(msg("connect", { client_id: "same-conn" }));
    expect(await c.nextLine()).toBe('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"same-conn"}');
    c.close();
    await stillServing();
  });

  // test_partial_json_handled: `{"protocol_version"` then, later, the newline: one line holding
  // truncated JSON → invalid_json, close. New clients get `client-<n>` ids.
  test("test_partial_json_handled", async () => {
    const c = await connectClient(d.socket);
    c.send('{"protocol_version"');
    await c.flushed();
    await expect(c.next(100)).rejects.toThrow("timed out"); // nothing happens on a partial line
    c.send("\n");
    const m = await c.next();
    expect(m?.code).toBe("invalid_json");
    await expectClosed(c);
    expect(await stillServing()).toMatch(/^client-\d+$/);
  });

  // test_unknown_message_type_handled: after the handshake, the reference's nested-`message`
  // shape has no `type`: one invalid_message error, the connection stays usable.
  test("test_unknown_message_type_handled", async () => {
    const c = await d.client("unknown-type-test");
    c.send('{"protocol_version":{"major":1,"minor":0},"message":{"UnknownType":{"data":"test"}}}\n');
    const m = await c.next();
    expect(m?.type).toBe("error");
    expect(m?.code).toBe("invalid_message");
    expect(m?.message as string).toStartWith("Invalid message: ");
    // And a real unknown `type` is unknown_type with the exact text.
    c.request("UnknownType", { data: "test" });
    expect(await c.nextLine()).toBe(errLine("Unknown message type: 'UnknownType'", "unknown_type"));
    expect(await barrier(c, 1)).toEqual([{ type: "pong", seq: 1 }]);
    c.close();
    await stillServing();
  });
});

describe("message size limits", () => {
  // test_oversized_message_rejected: a 2 MB status_update line before the handshake → exactly
  // message_too_large, then close; the daemon keeps serving.
  test("test_oversized_message_rejected", async () => {
    const c = await connectClient(d.socket);
    const big = "x".repeat(2 * 1024 * 1024);
    c.send(`{"protocol_version":{"major":1,"minor":0},"type":"status_update","data":{"padding":"${big}"}}\n`);
    expect(await c.nextLine(10_000)).toBe(errLine("Message too large (max: 1048576 bytes)", "message_too_large"));
    await expectClosed(c, 5000);
    await stillServing();
  }, 30_000);

  // Same after the handshake (the reference made no distinction).
  test("test_oversized_message_rejected (after the handshake)", async () => {
    const c = await d.client();
    const big = "x".repeat(2 * 1024 * 1024);
    c.send(`{"protocol_version":{"major":1,"minor":0},"type":"status_update","data":{"padding":"${big}"}}\n`);
    expect(await c.nextLine(10_000)).toBe(errLine("Message too large (max: 1048576 bytes)", "message_too_large"));
    await expectClosed(c, 5000);
    await stillServing();
  }, 30_000);
});

describe("rapid connect / disconnect", () => {
  // test_rapid_connect_disconnect: 20 × (handshake with id, disconnect) without waiting; atmd
  // sends nothing for disconnect and closes. A final client gets its own id back.
  test("test_rapid_connect_disconnect", async () => {
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await connectClient(d.socket);
      const connected = await c.handshake(`rapid-${i}`);
      expect(connected.client_id).toBe(`rapid-${i}`);
      c.request("disconnect");
      closed.push(
        (async () => {
          expect(await c.nextLine(5000)).toBeNull();
        })(),
      );
    }
    await Promise.all(closed);
    expect(await stillServing("final")).toBe("final");
  });

  // test_many_concurrent_connections: 20 concurrent clients; each handshakes with its own id,
  // lists, and gets its own pong.
  test("test_many_concurrent_connections", async () => {
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = await connectClient(d.socket);
        const connected = await c.handshake(`concurrent-${i}`);
        expect(connected.client_id).toBe(`concurrent-${i}`);
        c.request("list_sessions");
        expect((await c.next())?.type).toBe("session_list");
        c.request("ping", { seq: i });
        expect(await c.next()).toEqual({ type: "pong", seq: i });
        c.close();
      }),
    );
  });
});

describe("high-frequency updates", () => {
  // test_rapid_status_updates: 50 updates to one session (a live pid), pipelined; one session
  // exists and the last update is what it shows (updates apply in order, §12.1). No replies.
  test("test_rapid_status_updates", async () => {
    const c = await d.client("rapid-update-test");
    const pid = livePid();
    let batch = "";
    for (let i = 0; i < 50; i++) {
      batch += msg("status_update", {
        data: {
          session_id: "rapid-session",
          pid,
          model: MODEL,
          cost: { total_cost_usd: 0.01 * i, total_duration_ms: 1000 * i },
          context_window: { total_input_tokens: 100 * i, context_window_size: 200000 },
        },
      });
    }
    c.send(batch);
    c.request("list_sessions");
    const m = await c.next(); // the reply comes first: status updates produce no reply
    expect(m?.type).toBe("session_list");
    const sessions = m?.sessions as Array<Record<string, unknown>>;
    expect(sessions.length).toBe(1);
    expect(sessions[0]?.id).toBe("rapid-session");
    expect(sessions[0]?.cost_usd as number).toBeCloseTo(0.49, 10);
    expect(sessions[0]?.duration_seconds).toBe(49);
    c.close();
  });

  // test_multiple_sessions_rapid_updates: 10 sessions × 10 updates. The Rust test used synthetic
  // pids; atmd drops sessions of dead pids, so each session gets a live process here.
  test("test_multiple_sessions_rapid_updates", async () => {
    const c = await d.client();
    const pids = Array.from({ length: 10 }, () => livePid());
    let batch = "";
    for (let s = 0; s < 10; s++) {
      for (let u = 0; u < 10; u++) {
        batch += msg("status_update", {
          data: {
            session_id: `session-${s}`,
            pid: pids[s],
            model: MODEL,
            cost: { total_cost_usd: 0.01 * u, total_duration_ms: 1000 },
            context_window: { total_input_tokens: 100, context_window_size: 200000 },
          },
        });
      }
    }
    c.send(batch);
    c.request("list_sessions");
    const m = await c.next();
    expect(m?.type).toBe("session_list");
    const got = (m?.sessions as Array<Record<string, unknown>>).map((x) => x.id as string).sort();
    expect(got).toEqual(Array.from({ length: 10 }, (_, s) => `session-${s}`).sort());
    c.request("stats");
    const st = await c.expect("stats");
    expect((st.counters as Record<string, number>).status_updates).toBe(100);
    expect((st.counters as Record<string, number>).sessions_created).toBe(10);
    c.close();
  });
});

describe("error recovery", () => {
  // test_client_continues_after_error: a status_update without session_id → exactly one
  // `Parse error: Missing session_id`; the next ping is answered.
  test("test_client_continues_after_error", async () => {
    const c = await d.client();
    c.request("status_update", { data: { not_session_id: "missing-session-id" } });
    expect(await c.nextLine()).toBe(errLine("Parse error: Missing session_id", "parse_error"));
    c.request("ping", { seq: 42 });
    expect(await c.next()).toEqual({ type: "pong", seq: 42 });
    c.close();
  });

  // test_multiple_errors_dont_break_connection: 5 invalid updates → exactly 5 errors (no
  // fewer, no more), then list_sessions still answers.
  test("test_multiple_errors_dont_break_connection", async () => {
    const c = await d.client();
    for (let i = 0; i < 5; i++) c.request("status_update", { data: { invalid: "data" } });
    for (let i = 0; i < 5; i++) expect(await c.nextLine()).toBe(errLine("Parse error: Missing session_id", "parse_error"));
    c.request("list_sessions");
    expect(await c.next()).toEqual({ type: "session_list", sessions: [] });
    c.close();
  });
});

describe("subscriber broadcast", () => {
  // test_subscriber_receives_session_updates: subscriber gets an empty initial list, then the
  // session_updated for a session another client creates.
  test("test_subscriber_receives_session_updates", async () => {
    const sub = await d.client("subscriber");
    sub.request("subscribe");
    expect(await sub.nextLine()).toBe('{"type":"session_list","sessions":[]}');
    const updater = await d.client("updater");
    updater.request("status_update", {
      data: {
        session_id: "broadcast-test-session",
        pid: livePid(),
        model: MODEL,
        cost: { total_cost_usd: 0.05, total_duration_ms: 5000 },
        context_window: { total_input_tokens: 1000, context_window_size: 200000 },
      },
    });
    const m = await sub.next(2000);
    expect(m?.type).toBe("session_updated");
    expect((m?.session as Record<string, unknown>).id).toBe("broadcast-test-session");
    // Exactly one event for one update.
    expect(await barrier(sub, 1)).toEqual([{ type: "pong", seq: 1 }]);
    // The updater itself is not subscribed: it gets nothing.
    expect(await barrier(updater, 2)).toEqual([{ type: "pong", seq: 2 }]);
    sub.close();
    updater.close();
  });
});

describe("edge cases", () => {
  // test_subscribe_before_sessions_exist
  test("test_subscribe_before_sessions_exist", async () => {
    const c = await d.client();
    c.request("subscribe");
    expect(await c.nextLine()).toBe('{"type":"session_list","sessions":[]}');
    c.close();
  });

  // test_unsubscribe_when_not_subscribed: no error, no reply; the next line is the pong.
  test("test_unsubscribe_when_not_subscribed", async () => {
    const c = await d.client();
    c.request("unsubscribe");
    c.request("ping", { seq: 1 });
    expect(await c.next()).toEqual({ type: "pong", seq: 1 });
    c.close();
  });

  // test_double_subscribe: the second subscribe answers a session_list too, and the connection
  // counts once (subscribers keyed by connection).
  test("test_double_subscribe", async () => {
    const c = await d.client();
    c.request("subscribe");
    expect((await c.next())?.type).toBe("session_list");
    c.request("subscribe");
    expect((await c.next())?.type).toBe("session_list");
    c.request("stats");
    expect((await c.next())?.subscribers).toBe(1);
    c.close();
  });

  // test_empty_session_id: "" is a valid session id; without a pid the update is for an unknown
  // session without usable pid → ignored silently (SESSIONS.md §4), so the reply to the ping is
  // the pong — not an error (the Rust test accepted both).
  test("test_empty_session_id", async () => {
    const c = await d.client();
    c.request("status_update", {
      data: {
        session_id: "",
        model: { id: "claude-sonnet-4-20250514" },
        cost: { total_cost_usd: 0.0, total_duration_ms: 0 },
        context_window: { total_input_tokens: 0, context_window_size: 200000 },
      },
    });
    c.request("ping", { seq: 99 });
    expect(await c.next()).toEqual({ type: "pong", seq: 99 });
    c.request("list_sessions");
    expect(await c.next()).toEqual({ type: "session_list", sessions: [] });
    c.close();
  });

  // test_empty_session_id, with a live pid: the empty id creates a session like any other.
  test("test_empty_session_id (with a live pid: created)", async () => {
    const c = await d.client();
    c.request("status_update", { data: { session_id: "", pid: livePid(), model: { id: "claude-sonnet-4-20250514" } } });
    c.request("ping", { seq: 100 });
    expect(await c.next()).toEqual({ type: "pong", seq: 100 });
    c.request("list_sessions");
    const m = await c.next();
    expect((m?.sessions as Array<Record<string, unknown>>).map((s) => s.id)).toEqual([""]);
    c.close();
  });
});
