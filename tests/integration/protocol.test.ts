// Black-box tests of the wire protocol (PROTOCOL.md §3, §4, §7–§10, §12, §13) against the real
// daemon process: handshake rules, the full error matrix of §9.3 in both phases, ping, list order,
// subscriptions (filters, re-subscribe, fan-out order, the 64-subscriber cap), how a connection
// ends, and the `stats` reply.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { connectClient, type LineClient } from "../helpers/client.ts";
import { OPUS, barrier, errLine, expectClosed, killSleepers, livePid, stats, statsUntil, statusData } from "../helpers/protocol.ts";
import { msg, readUntil, startDaemon, stopAll, type TestDaemon } from "../helpers/daemon.ts";

/** Stops a daemon this test started and removes its temp dir. */
async function finish(daemon: TestDaemon): Promise<number | null> {
  const code = await daemon.stop();
  rmSync(daemon.dir, { recursive: true, force: true });
  return code;
}

// ---------------------------------------------------------------------------------------------
// Local helpers

const MODEL = OPUS;



const enc = new TextEncoder();





function sessionsOf(m: Record<string, unknown> | null): Record<string, unknown>[] {
  if (m === null) throw new Error("connection closed; expected a session_list");
  expect(m.type).toBe("session_list");
  return m.sessions as Record<string, unknown>[];
}

/**
 * Half-closes our writing side (SHUT_WR) and keeps reading. LineClient.end() calls Bun's
 * `shutdown(true)`, which stops *receiving* (SHUT_RD) — the opposite — so the tests do it here.
 */
function halfClose(c: LineClient): void {
  (c as unknown as { socket: { shutdown(halfClose?: boolean): void } }).socket.shutdown();
}

const ids = (m: Record<string, unknown> | null) => sessionsOf(m).map((s) => s.id as string);

afterAll(async () => {
  killSleepers();
  await stopAll();
});

// One daemon for the tests that do not depend on registry contents or counters.
let shared: TestDaemon;
beforeAll(async () => {
  shared = await startDaemon();
});

// ---------------------------------------------------------------------------------------------

describe("handshake (§4.2, §4.3)", () => {
  test("connect with a client_id: connected echoes it verbatim, exact line", async () => {
    const c = await connectClient(shared.socket);
    c.send(msg("connect", { client_id: "atm-cli" }));
    expect(await c.nextLine()).toBe('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"atm-cli"}');
    c.close();
  });

  test("the empty string is a valid client id", async () => {
    const c = await connectClient(shared.socket);
    c.send(msg("connect", { client_id: "" }));
    expect(await c.next()).toEqual({ type: "connected", protocol_version: { major: 1, minor: 0 }, client_id: "" });
    c.close();
  });

  test("no client_id / null client_id: client-<connection number>", async () => {
    const d = await startDaemon();
    const probe = await d.client("probe");
    const s = await stats(probe);
    // `probe` is connection number connections_accepted - 1; the next two are +0 and +1.
    const n = s.counters as Record<string, number>;
    const next = n.connections_accepted as number;
    const a = await connectClient(d.socket);
    a.send(msg("connect"));
    expect(await a.next()).toEqual({ type: "connected", protocol_version: { major: 1, minor: 0 }, client_id: `client-${next}` });
    const b = await connectClient(d.socket);
    b.send(msg("connect", { client_id: null }));
    expect((await b.next())?.client_id).toBe(`client-${next + 1}`);
    a.close();
    b.close();
    probe.close();
    await finish(d);
  });

  test("the minor version is ignored on input; the reply always says 1.0", async () => {
    const c = await connectClient(shared.socket);
    c.send(`${JSON.stringify({ protocol_version: { major: 1, minor: 7 }, type: "connect", client_id: "m7" })}\n`);
    expect(await c.nextLine()).toBe('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"m7"}');
    c.request("ping", { seq: 1 });
    expect(await c.next()).toEqual({ type: "pong", seq: 1 });
    c.close();
  });

  test("two connections may use the same client id without affecting each other", async () => {
    const a = await shared.client("same");
    const b = await shared.client("same");
    a.request("subscribe");
    sessionsOf(await a.next());
    b.request("subscribe");
    sessionsOf(await b.next());
    b.request("unsubscribe");
    // a is still subscribed and usable; b too
    expect(await barrier(a, 5)).toEqual([{ type: "pong", seq: 5 }]);
    expect(await barrier(b, 6)).toEqual([{ type: "pong", seq: 6 }]);
    a.close();
    b.close();
  });
});

describe("version mismatch (§4.2 rule 4, §8)", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["major 2 connect", { protocol_version: { major: 2, minor: 3 }, type: "connect" }, "2.3"],
    ["major 0 connect", { protocol_version: { major: 0, minor: 9 }, type: "connect" }, "0.9"],
    // Rule 4 comes before the type checks (rules 5-7).
    ["major 2 with a non-connect type", { protocol_version: { major: 2, minor: 0 }, type: "ping", seq: 1 }, "2.0"],
    ["major 2 without type", { protocol_version: { major: 2, minor: 0 } }, "2.0"],
    ["major 3 with an unknown type", { protocol_version: { major: 3, minor: 1 }, type: "frobnicate" }, "3.1"],
  ];
  for (const [name, line, v] of cases) {
    test(`${name}: exact rejected line, then close`, async () => {
      const c = await connectClient(shared.socket);
      c.send(`${JSON.stringify(line)}\n`);
      expect(await c.nextLine()).toBe(
        `{"type":"rejected","reason":"Protocol version ${v} not compatible with server version 1.0","protocol_version":{"major":1,"minor":0}}`,
      );
      await expectClosed(c);
    });
  }
});

describe("first line matrix: before the handshake (§4.2, §9.3 left column)", () => {
  type Row = { name: string; line: string | Uint8Array; exact?: string; code?: string; prefix?: string };
  const pv = { major: 1, minor: 0 };
  const j = (o: unknown) => `${JSON.stringify(o)}\n`;
  const rows: Row[] = [
    { name: "invalid UTF-8", line: new Uint8Array([0xff, 0xfe, 0x7b, 0x7d, 0x0a]), exact: errLine("Invalid JSON: invalid UTF-8", "invalid_json") },
    { name: "not JSON", line: "this is not valid json\n", code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "two JSON values on one line", line: '{"a":1} {"b":2}\n', code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "truncated JSON", line: '{"protocol_version"\n', code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "JSON array", line: "[1,2]\n", exact: errLine("Invalid message: expected a JSON object", "bad_handshake") },
    { name: "JSON number", line: "42\n", exact: errLine("Invalid message: expected a JSON object", "bad_handshake") },
    { name: "JSON string", line: '"connect"\n', exact: errLine("Invalid message: expected a JSON object", "bad_handshake") },
    { name: "JSON null", line: "null\n", exact: errLine("Invalid message: expected a JSON object", "bad_handshake") },
    { name: "protocol_version missing", line: j({ type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "protocol_version not an object", line: j({ protocol_version: "1.0", type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "protocol_version as array", line: j({ protocol_version: [1, 0], type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "minor missing", line: j({ protocol_version: { major: 1 }, type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "major negative", line: j({ protocol_version: { major: -1, minor: 0 }, type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "major 65536", line: j({ protocol_version: { major: 65536, minor: 0 }, type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "minor fractional", line: j({ protocol_version: { major: 1, minor: 0.5 }, type: "connect" }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "type missing", line: j({ protocol_version: pv }), exact: errLine("Invalid message: missing field `type`", "bad_handshake") },
    { name: "type not a string", line: j({ protocol_version: pv, type: 0 }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "unknown type", line: j({ protocol_version: pv, type: "pi_event" }), exact: errLine("Unknown message type: 'pi_event'", "bad_handshake") },
    { name: "type is case-sensitive", line: j({ protocol_version: pv, type: "Connect" }), exact: errLine("Unknown message type: 'Connect'", "bad_handshake") },
    ...["ping", "stats", "disconnect", "list_sessions", "subscribe", "unsubscribe", "discover"].map((type) => ({
      name: `known non-connect type ${type}`,
      line: j({ protocol_version: pv, type, seq: 1 }),
      exact: errLine("Expected Connect message for handshake", "bad_handshake"),
    })),
    { name: "ping without seq", line: j({ protocol_version: pv, type: "ping" }), exact: errLine("Expected Connect message for handshake", "bad_handshake") },
    { name: "status_update without data", line: j({ protocol_version: pv, type: "status_update" }), exact: errLine("Expected Connect message for handshake", "bad_handshake") },
    { name: "hook_event without data", line: j({ protocol_version: pv, type: "hook_event" }), exact: errLine("Expected Connect message for handshake", "bad_handshake") },
    { name: "subscribe with a numeric session_id", line: j({ protocol_version: pv, type: "subscribe", session_id: 7 }), exact: errLine("Expected Connect message for handshake", "bad_handshake") },
    { name: "connect with a numeric client_id", line: j({ protocol_version: pv, type: "connect", client_id: 5 }), code: "bad_handshake", prefix: "Invalid message: " },
    { name: "connect with an object client_id", line: j({ protocol_version: pv, type: "connect", client_id: {} }), code: "bad_handshake", prefix: "Invalid message: " },
  ];
  for (const row of rows) {
    test(`${row.name} → one error, then close`, async () => {
      const c = await connectClient(shared.socket);
      c.send(row.line);
      const line = await c.nextLine();
      if (row.exact !== undefined) {
        expect(line).toBe(row.exact);
      } else {
        const m = JSON.parse(line as string) as Record<string, unknown>;
        expect(Object.keys(m)).toEqual(["type", "message", "code"]);
        expect(m.type).toBe("error");
        expect(m.code).toBe(row.code as string);
        expect(m.message as string).toStartWith(row.prefix as string);
      }
      await expectClosed(c);
    });
  }

  test("a line after the bad first line is never processed", async () => {
    const c = await connectClient(shared.socket);
    c.send(`nope\n${msg("connect")}${msg("ping", { seq: 1 })}`);
    expect((await c.next())?.code).toBe("invalid_json");
    await expectClosed(c);
  });
});

describe("blank lines are ignored (§3.1)", () => {
  test("before the handshake: no reply, and they do not count as the handshake", async () => {
    const c = await connectClient(shared.socket);
    c.send("\n   \t\r\n\r\n\t\n");
    c.send(msg("connect", { client_id: "after-blanks" }));
    expect(await c.next()).toEqual({ type: "connected", protocol_version: { major: 1, minor: 0 }, client_id: "after-blanks" });
    c.close();
  });

  test("after the handshake: no reply; the next reply is the pong", async () => {
    const c = await shared.client();
    c.send("\n \n\t\t\r\n");
    expect(await barrier(c, 9)).toEqual([{ type: "pong", seq: 9 }]);
    c.close();
  });

  test("CRLF line endings and whitespace around the JSON value are accepted", async () => {
    const c = await shared.client();
    c.send(` \t${JSON.stringify({ protocol_version: { major: 1, minor: 0 }, type: "ping", seq: 3 })}  \r\n`);
    expect(await c.next()).toEqual({ type: "pong", seq: 3 });
    c.close();
  });
});

describe("duplicate connect (§7.1)", () => {
  test("second connect: exact already_connected; connection stays usable", async () => {
    const c = await shared.client("first");
    c.send(msg("connect", { client_id: "second" }));
    expect(await c.nextLine()).toBe(errLine("Already connected", "already_connected"));
    c.send(msg("connect"));
    expect(await c.nextLine()).toBe(errLine("Already connected", "already_connected"));
    expect(await barrier(c, 2)).toEqual([{ type: "pong", seq: 2 }]);
    c.close();
  });
});

describe("ping / pong (§7.6)", () => {
  const seqs: Array<[unknown, number]> = [
    [0, 0],
    [42, 42],
    [42.0, 42],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ];
  for (const [sent, got] of seqs) {
    test(`seq ${String(sent)} → pong with seq ${got}`, async () => {
      const c = await shared.client();
      c.request("ping", { seq: sent });
      expect(await c.nextLine()).toBe(`{"type":"pong","seq":${got}}`);
      c.close();
    });
  }

  test("a float-looking 42.0 on the wire is the integer 42", async () => {
    const c = await shared.client();
    c.send('{"protocol_version":{"major":1,"minor":0},"type":"ping","seq":42.0}\n');
    expect(await c.nextLine()).toBe('{"type":"pong","seq":42}');
    c.close();
  });

  test("pipelined pings are answered in order, one pong each", async () => {
    const c = await shared.client();
    let batch = "";
    for (let i = 0; i < 200; i++) batch += msg("ping", { seq: i });
    c.send(batch);
    for (let i = 0; i < 200; i++) expect(await c.next()).toEqual({ type: "pong", seq: i });
    expect(await barrier(c, 1000)).toEqual([{ type: "pong", seq: 1000 }]);
    c.close();
  });
});

// ---------------------------------------------------------------------------------------------
// §9.3 right column: after the handshake, exactly one error per bad line, connection kept.

type AfterRow = { name: string; line: string | Uint8Array; exact?: string; code?: string; prefix?: string; none?: true };

function afterRows(): AfterRow[] {
  const pv = { major: 1, minor: 0 };
  const j = (o: unknown) => `${JSON.stringify(o)}\n`;
  const objErr = (detailPrefix = "Invalid message: ") => ({ code: "invalid_message", prefix: detailPrefix });
  return [
    { name: "invalid UTF-8", line: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), exact: errLine("Invalid JSON: invalid UTF-8", "invalid_json") },
    { name: "not JSON", line: "this is not valid json\n", code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "two JSON values", line: '{"a":1} {"b":2}\n', code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "truncated JSON", line: '{"protocol_version"\n', code: "invalid_json", prefix: "Invalid JSON: " },
    { name: "JSON array", line: "[1,2]\n", ...objErr() },
    { name: "JSON number", line: "42\n", ...objErr() },
    { name: "JSON null", line: "null\n", ...objErr() },
    { name: "protocol_version missing", line: j({ type: "ping", seq: 1 }), ...objErr() },
    { name: "protocol_version a string", line: j({ protocol_version: "1.0", type: "ping", seq: 1 }), ...objErr() },
    { name: "protocol_version major missing", line: j({ protocol_version: { minor: 0 }, type: "ping", seq: 1 }), ...objErr() },
    { name: "protocol_version major 1.5", line: j({ protocol_version: { major: 1.5, minor: 0 }, type: "ping", seq: 1 }), ...objErr() },
    {
      name: "major 2 (not processed)",
      line: j({ protocol_version: { major: 2, minor: 5 }, type: "ping", seq: 77 }),
      exact: errLine("Protocol version 2.5 not compatible with server version 1.0", "version_mismatch"),
    },
    {
      name: "major 0 (not processed)",
      line: j({ protocol_version: { major: 0, minor: 0 }, type: "list_sessions" }),
      exact: errLine("Protocol version 0.0 not compatible with server version 1.0", "version_mismatch"),
    },
    { name: "type missing", line: j({ protocol_version: pv, seq: 1 }), ...objErr() },
    { name: "type an integer", line: j({ protocol_version: pv, type: 6, seq: 1 }), ...objErr() },
    // The Rust suite's "unknown variant" shape: no `type` at all.
    { name: "reference-style nested message", line: j({ protocol_version: pv, message: { UnknownType: { data: "test" } } }), ...objErr() },
    { name: "unknown type pi_event", line: j({ protocol_version: pv, type: "pi_event", data: {} }), exact: errLine("Unknown message type: 'pi_event'", "unknown_type") },
    { name: "unknown type Ping (case)", line: j({ protocol_version: pv, type: "Ping", seq: 1 }), exact: errLine("Unknown message type: 'Ping'", "unknown_type") },
    { name: "ping without seq", line: j({ protocol_version: pv, type: "ping" }), ...objErr() },
    { name: "ping seq a string", line: j({ protocol_version: pv, type: "ping", seq: "x" }), ...objErr() },
    { name: "ping seq -1", line: j({ protocol_version: pv, type: "ping", seq: -1 }), ...objErr() },
    { name: "ping seq 1.5", line: j({ protocol_version: pv, type: "ping", seq: 1.5 }), ...objErr() },
    { name: "ping seq 2^53", line: '{"protocol_version":{"major":1,"minor":0},"type":"ping","seq":9007199254740992}\n', ...objErr() },
    { name: "status_update without data", line: j({ protocol_version: pv, type: "status_update" }), ...objErr() },
    { name: "hook_event without data", line: j({ protocol_version: pv, type: "hook_event" }), ...objErr() },
    { name: "subscribe with a numeric session_id", line: j({ protocol_version: pv, type: "subscribe", session_id: 7 }), ...objErr() },
    { name: "connect with a numeric client_id", line: j({ protocol_version: pv, type: "connect", client_id: 5 }), ...objErr() },
    { name: "a well-formed second connect", line: j({ protocol_version: pv, type: "connect" }), exact: errLine("Already connected", "already_connected") },
    { name: "status_update data a number", line: j({ protocol_version: pv, type: "status_update", data: 5 }), exact: errLine("Parse error: Missing session_id", "parse_error") },
    { name: "status_update data null", line: j({ protocol_version: pv, type: "status_update", data: null }), exact: errLine("Parse error: Missing session_id", "parse_error") },
    { name: "status_update without session_id", line: j({ protocol_version: pv, type: "status_update", data: { not_session_id: "x" } }), exact: errLine("Parse error: Missing session_id", "parse_error") },
    { name: "status_update numeric session_id", line: j({ protocol_version: pv, type: "status_update", data: { session_id: 5 } }), exact: errLine("Parse error: Missing session_id", "parse_error") },
    {
      name: "status_update model without id",
      line: j({ protocol_version: pv, type: "status_update", data: { session_id: "bad-model", model: { display_name: "x" } } }),
      code: "parse_error",
      prefix: "Registry error: parse error: ",
    },
    {
      name: "status_update cost without total_cost_usd",
      line: j({ protocol_version: pv, type: "status_update", data: { session_id: "bad-cost", cost: { total_duration_ms: 1 } } }),
      code: "parse_error",
      prefix: "Registry error: parse error: ",
    },
    { name: "status_update pid -1", line: j({ protocol_version: pv, type: "status_update", data: { session_id: "bad-pid", pid: -1 } }), code: "parse_error", prefix: "Registry error: parse error: " },
    { name: "status_update pid 2^32", line: j({ protocol_version: pv, type: "status_update", data: { session_id: "bad-pid", pid: 4294967296 } }), code: "parse_error", prefix: "Registry error: parse error: " },
    { name: "hook_event data null", line: j({ protocol_version: pv, type: "hook_event", data: null }), code: "parse_error", prefix: "Parse error: " },
    { name: "hook_event without hook_event_name", line: j({ protocol_version: pv, type: "hook_event", data: { session_id: "h" } }), code: "parse_error", prefix: "Parse error: " },
    { name: "hook_event without session_id", line: j({ protocol_version: pv, type: "hook_event", data: { hook_event_name: "Stop" } }), code: "parse_error", prefix: "Parse error: " },
    // Rows whose answer is "nothing".
    { name: "status_update for an unknown session without pid (ignored)", line: j({ protocol_version: pv, type: "status_update", data: { session_id: "nopid", model: MODEL } }), none: true },
    { name: "status_update creating without model (ignored)", line: j({ protocol_version: pv, type: "status_update", data: { session_id: "nomodel", pid: process.pid } }), none: true },
    { name: "hook_event with an unknown name (accepted silently)", line: j({ protocol_version: pv, type: "hook_event", data: { session_id: "h2", hook_event_name: "SomeFutureEvent" } }), none: true },
    { name: "unsubscribe when not subscribed", line: j({ protocol_version: pv, type: "unsubscribe" }), none: true },
    { name: "blank line", line: " \t \n", none: true },
    { name: "unknown fields are ignored", line: j({ protocol_version: { major: 1, minor: 3, patch: 1 }, type: "unsubscribe", extra: [1, 2] }), none: true },
  ];
}

function checkError(line: string | null, row: AfterRow): void {
  expect(line).not.toBeNull();
  if (row.exact !== undefined) {
    expect(line).toBe(row.exact);
    return;
  }
  const m = JSON.parse(line as string) as Record<string, unknown>;
  expect(Object.keys(m)).toEqual(["type", "message", "code"]);
  expect(m.type).toBe("error");
  expect(m.code).toBe(row.code as string);
  expect(m.message as string).toStartWith(row.prefix as string);
}

describe("error matrix after the handshake (§4.4, §9.3 right column)", () => {
  for (const row of afterRows()) {
    test(`${row.name} → ${row.none ? "no reply" : "exactly one error"}; connection usable`, async () => {
      const c = await shared.client();
      c.send(row.line);
      if (!row.none) checkError(await c.nextLine(), row);
      // The very next line is the pong: nothing else was sent for the bad line (§12.7).
      c.request("ping", { seq: 4242 });
      expect(await c.nextLine()).toBe('{"type":"pong","seq":4242}');
      expect(c.isClosed).toBe(false);
      c.close();
    });
  }

  test("every row pipelined in one write: one error per bad line, in order, then the pong", async () => {
    const rows = afterRows();
    const c = await shared.client();
    const parts: Uint8Array[] = rows.map((r) => (typeof r.line === "string" ? enc.encode(r.line) : r.line));
    parts.push(enc.encode(msg("ping", { seq: 31337 })));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    c.send(all);
    for (const row of rows) if (!row.none) checkError(await c.nextLine(), row);
    expect(await c.nextLine()).toBe('{"type":"pong","seq":31337}');
    c.close();
  });

  test("a message with major ≠ 1 is not processed (no pong for it)", async () => {
    const c = await shared.client();
    c.send(`${JSON.stringify({ protocol_version: { major: 2, minor: 0 }, type: "ping", seq: 1 })}\n`);
    c.request("ping", { seq: 2 });
    expect((await c.next())?.code).toBe("version_mismatch");
    expect(await c.next()).toEqual({ type: "pong", seq: 2 });
    c.close();
  });
});

// ---------------------------------------------------------------------------------------------

describe("list_sessions (§7.4)", () => {
  test("empty registry: exact empty session_list", async () => {
    const d = await startDaemon();
    const c = await d.client();
    c.request("list_sessions");
    expect(await c.nextLine()).toBe('{"type":"session_list","sessions":[]}');
    c.close();
    await finish(d);
  });

  test("ordered by started_at, ties by id — not by id alone", async () => {
    const d = await startDaemon();
    const c = await d.client();
    // zzz is created first (earlier started_at), aaa later.
    c.request("status_update", { data: statusData("zzz", livePid()) });
    await barrier(c, 1);
    await Bun.sleep(5); // make the next started_at strictly later (microsecond clock)
    c.request("status_update", { data: statusData("aaa", livePid()) });
    await barrier(c, 2);
    // Five more created in one pipelined write (timestamps may tie: then ids decide).
    let batch = "";
    for (const id of ["e", "d", "c", "b", "a"]) batch += msg("status_update", { data: statusData(id, livePid()) });
    c.send(batch);
    await barrier(c, 3);
    c.request("list_sessions");
    const list = sessionsOf(await c.expect("session_list"));
    const got = list.map((s) => s.id as string);
    expect(got.length).toBe(7);
    expect(got.slice(0, 2)).toEqual(["zzz", "aaa"]);
    const keyed = list.map((s) => [s.started_at as string, s.id as string] as const);
    const sorted = [...keyed].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
    expect(keyed).toEqual(sorted);
    c.close();
    await finish(d);
  });
});

describe("subscribe / unsubscribe (§10)", () => {
  let d: TestDaemon;
  let pub: LineClient;
  const pidA = () => livePid();
  beforeAll(async () => {
    d = await startDaemon();
    pub = await d.client("publisher");
    pub.request("status_update", { data: statusData("s-one", pidA()) });
    pub.request("status_update", { data: statusData("s-two", pidA()) });
    await barrier(pub, 1);
  });

  test("without a filter: the initial list has every session", async () => {
    const c = await d.client();
    c.request("subscribe");
    expect(ids(await c.next()).sort()).toEqual(["s-one", "s-two"]);
    c.close();
  });

  test("with a filter: the initial list has only that session (filtered, §10.1)", async () => {
    const c = await d.client();
    c.request("subscribe", { session_id: "s-two" });
    expect(ids(await c.next())).toEqual(["s-two"]);
    c.close();
  });

  test("with a filter naming no session: empty initial list", async () => {
    const c = await d.client();
    c.request("subscribe", { session_id: "nope" });
    expect(await c.nextLine()).toBe('{"type":"session_list","sessions":[]}');
    c.close();
  });

  test("session_id null is the same as no filter", async () => {
    const c = await d.client();
    c.request("subscribe", { session_id: null });
    expect(ids(await c.next()).length).toBe(2);
    c.close();
  });

  test("a filtered subscriber receives only its session's events", async () => {
    const c = await d.client();
    c.request("subscribe", { session_id: "s-one" });
    expect(ids(await c.next())).toEqual(["s-one"]);
    pub.request("status_update", { data: statusData("s-two", 0, { cost: { total_cost_usd: 1, total_duration_ms: 1 } }) });
    pub.request("status_update", { data: statusData("s-one", 0, { cost: { total_cost_usd: 2, total_duration_ms: 1 } }) });
    await barrier(pub, 2);
    const m = await c.next();
    expect(m?.type).toBe("session_updated");
    expect((m?.session as Record<string, unknown>).id).toBe("s-one");
    expect(await barrier(c, 3)).toEqual([{ type: "pong", seq: 3 }]);
    c.close();
  });

  test("re-subscribe replaces the filter and sends a new (filtered) list", async () => {
    const c = await d.client();
    c.request("subscribe", { session_id: "s-one" });
    expect(ids(await c.next())).toEqual(["s-one"]);
    c.request("subscribe", { session_id: "s-two" });
    expect(ids(await c.next())).toEqual(["s-two"]);
    pub.request("status_update", { data: statusData("s-one", 0) });
    pub.request("status_update", { data: statusData("s-two", 0) });
    await barrier(pub, 4);
    const m = await c.next();
    expect(m?.type).toBe("session_updated");
    expect((m?.session as Record<string, unknown>).id).toBe("s-two");
    // Re-subscribing without a filter widens it again.
    c.request("subscribe");
    expect(ids(await c.next()).length).toBe(2);
    const s = await stats(c);
    expect(s.subscribers).toBe(1);
    c.close();
  });

  test("unsubscribe: no reply; later events are not delivered", async () => {
    const c = await d.client();
    c.request("subscribe");
    sessionsOf(await c.next());
    c.request("unsubscribe");
    expect(await barrier(c, 5)).toEqual([{ type: "pong", seq: 5 }]);
    pub.request("status_update", { data: statusData("s-one", 0) });
    await barrier(pub, 6);
    expect(await barrier(c, 7)).toEqual([{ type: "pong", seq: 7 }]);
    c.close();
  });

  test("a subscriber's own status_update: session_updated comes before the next reply (§12.3)", async () => {
    const c = await d.client();
    c.request("subscribe");
    sessionsOf(await c.next());
    for (let i = 0; i < 20; i++) {
      c.request("status_update", { data: statusData("s-one", 0) });
      c.request("ping", { seq: i });
    }
    for (let i = 0; i < 20; i++) {
      const u = await c.next();
      expect(u?.type).toBe("session_updated");
      expect(await c.next()).toEqual({ type: "pong", seq: i });
    }
    c.close();
  });

  test("the initial list comes before any broadcast, and no event is lost in between", async () => {
    const subs: LineClient[] = [];
    for (let i = 0; i < 5; i++) subs.push(await d.client(`race-${i}`));
    pub.request("status_update", { data: statusData("s-two", 0, { cost: { total_cost_usd: 9999, total_duration_ms: 1 } }) });
    await barrier(pub, 11);
    // Updates flowing while the subscriptions are being made.
    let flood = "";
    for (let i = 0; i < 300; i++) flood += msg("status_update", { data: statusData("s-two", 0, { cost: { total_cost_usd: 10000 + i, total_duration_ms: i } }) });
    pub.send(flood);
    for (const s of subs) s.request("subscribe", { session_id: "s-two" });
    await barrier(pub, 8);
    for (const s of subs) {
      const first = await s.next();
      expect(first?.type).toBe("session_list");
      const listed = sessionsOf(first as Record<string, unknown>)[0] as Record<string, unknown>;
      // Every update after the snapshot arrives; the last one carries the final cost 299.
      const seen = await barrier(s, 9);
      const updates = seen.filter((m) => m.type === "session_updated");
      const finalCost = updates.length > 0 ? ((updates.at(-1) as Record<string, unknown>).session as Record<string, unknown>).cost_usd : listed.cost_usd;
      expect(finalCost).toBe(10299);
      // Costs strictly increase by one: no gap.
      const costs = [listed.cost_usd as number, ...updates.map((m) => (m.session as Record<string, unknown>).cost_usd as number)];
      for (let i = 1; i < costs.length; i++) expect(costs[i]).toBe((costs[i - 1] as number) + 1);
      s.close();
    }
  });

  test("12 concurrent subscribers all receive every update, in the same order, same bytes", async () => {
    const N = 12;
    const UPDATES = 300;
    const subs: LineClient[] = [];
    for (let i = 0; i < N; i++) {
      const s = await d.client(`fan-${i}`);
      s.request("subscribe");
      sessionsOf(await s.next());
      subs.push(s);
    }
    const order: string[] = [];
    let batch = "";
    const sids = ["s-one", "s-two", "s-three"];
    const p3 = livePid();
    for (let i = 0; i < UPDATES; i++) {
      const sid = sids[i % 3] as string;
      order.push(sid);
      batch += msg("status_update", { data: statusData(sid, sid === "s-three" ? p3 : 0, { cost: { total_cost_usd: 1000 + i, total_duration_ms: i } }) });
    }
    pub.send(batch);
    const received = await Promise.all(
      subs.map(async (s) => {
        const lines: string[] = [];
        for (let i = 0; i < UPDATES; i++) {
          const l = await s.nextLine(10_000);
          if (l === null) throw new Error("subscriber closed");
          lines.push(l);
        }
        return lines;
      }),
    );
    const first = received[0] as string[];
    const parsed = first.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.every((m) => m.type === "session_updated")).toBe(true);
    expect(parsed.map((m) => (m.session as Record<string, unknown>).id)).toEqual(order);
    expect(parsed.map((m) => (m.session as Record<string, unknown>).cost_usd)).toEqual(order.map((_, i) => 1000 + i));
    for (const r of received) expect(r).toEqual(first);
    // Nothing extra queued behind them.
    for (const s of subs) expect(await barrier(s, 10)).toEqual([{ type: "pong", seq: 10 }]);
    for (const s of subs) s.close();
  }, 60_000);

  test("the 65th subscribing connection is refused; it stays open; re-subscribe is always allowed", async () => {
    const d2 = await startDaemon();
    const conns = await Promise.all(Array.from({ length: 65 }, (_, i) => d2.client(`sub-${i}`)));
    const first64 = conns.slice(0, 64);
    for (const c of first64) c.request("subscribe");
    for (const c of first64) sessionsOf(await c.next());
    const last = conns[64] as LineClient;
    last.request("subscribe");
    expect(await last.nextLine()).toBe(errLine("Too many subscribers (max: 64)", "too_many_subscribers"));
    expect(await barrier(last, 1)).toEqual([{ type: "pong", seq: 1 }]);
    // Already subscribed: re-subscribe works at the cap.
    const c0 = first64[0] as LineClient;
    c0.request("subscribe", { session_id: "x" });
    sessionsOf(await c0.next());
    expect((await stats(last)).subscribers).toBe(64);
    // One leaves: the 65th may now subscribe.
    c0.request("unsubscribe");
    await barrier(c0, 2);
    last.request("subscribe");
    sessionsOf(await last.next());
    expect((await stats(last)).subscribers).toBe(64);
    for (const c of conns) c.close();
    await finish(d2);
  }, 60_000);
});

describe("how a connection ends (§4.6)", () => {
  let d: TestDaemon;
  let observer: LineClient;
  beforeAll(async () => {
    d = await startDaemon();
    observer = await d.client("observer");
    observer.request("subscribe");
    sessionsOf(await observer.next());
  });

  async function seen(sessionId: string): Promise<void> {
    await readUntil(observer, (m) => m.type === "session_updated" && (m.session as Record<string, unknown>).id === sessionId, 5000);
  }

  test("disconnect: no reply, the daemon closes", async () => {
    const c = await d.client();
    c.request("disconnect");
    await expectClosed(c);
  });

  test("disconnect discards lines after it", async () => {
    const c = await d.client();
    c.send(msg("disconnect") + msg("ping", { seq: 1 }) + msg("status_update", { data: statusData("after-disconnect", livePid()) }));
    await expectClosed(c);
    c.close();
    // The status_update after disconnect never happened: the observer's next event is ours.
    const probe = await d.client();
    probe.request("status_update", { data: statusData("marker-1", livePid()) });
    const m = await observer.next();
    expect((m?.session as Record<string, unknown>).id).toBe("marker-1");
    probe.close();
  });

  test("disconnect ends a subscription", async () => {
    const c = await d.client();
    c.request("subscribe");
    sessionsOf(await c.next());
    const before = (await stats(observer)).subscribers as number;
    c.request("disconnect");
    await expectClosed(c);
    expect((await stats(observer)).subscribers).toBe(before - 1);
  });

  test("connect + data in one write, then an immediate full close: the data is applied", async () => {
    const c = await connectClient(d.socket);
    c.send(msg("connect", { client_id: "hook-close" }) + msg("status_update", { data: statusData("hook-close", livePid()) }));
    c.close();
    await seen("hook-close");
  });

  test("connect + data in one write, then a reset (terminate): the data is applied", async () => {
    const c = await connectClient(d.socket);
    c.send(msg("connect") + msg("status_update", { data: statusData("hook-reset", livePid()) }));
    c.terminate();
    await seen("hook-reset");
  });

  test("half-close after connect + data: connected is still delivered, data applied, then close", async () => {
    const c = await connectClient(d.socket);
    c.send(msg("connect", { client_id: "half" }) + msg("status_update", { data: statusData("hook-half", livePid()) }));
    halfClose(c);
    expect(await c.next()).toEqual({ type: "connected", protocol_version: { major: 1, minor: 0 }, client_id: "half" });
    await expectClosed(c);
    await seen("hook-half");
  });

  test("half-close with a final unterminated line: it is processed and answered", async () => {
    const c = await connectClient(d.socket);
    c.send(`${msg("connect")}${msg("list_sessions")}{"protocol_version":{"major":1,"minor":0},"type":"ping","seq":88}`);
    halfClose(c);
    expect((await c.next())?.type).toBe("connected");
    expect((await c.next())?.type).toBe("session_list");
    expect(await c.next()).toEqual({ type: "pong", seq: 88 });
    await expectClosed(c);
  });

  test("half-close before any handshake: the final unterminated connect is answered", async () => {
    const c = await connectClient(d.socket);
    c.send('{"protocol_version":{"major":1,"minor":0},"type":"connect","client_id":"eof"}');
    halfClose(c);
    expect((await c.next())?.client_id).toBe("eof");
    await expectClosed(c);
  });

  test("many hook-style connections at once: every data line is applied", async () => {
    const N = 30;
    const want = new Set<string>();
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const sid = `burst-${i}`;
        want.add(sid);
        const c = await connectClient(d.socket);
        c.send(msg("connect", { client_id: sid }) + msg("status_update", { data: statusData(sid, livePid()) }));
        c.close();
      }),
    );
    await readUntil(
      observer,
      (m) => {
        if (m.type === "session_updated") want.delete((m.session as Record<string, unknown>).id as string);
        return want.size === 0;
      },
      10_000,
    );
    expect(want.size).toBe(0);
  });
});

describe("stats (§13)", () => {
  const TOP = [
    "type", "version", "protocol_version", "pid", "socket", "started_at", "uptime_seconds", "sessions", "max_sessions",
    "connections", "max_connections", "subscribers", "max_subscribers", "counters", "rss_bytes", "cpu_percent",
  ];
  const COUNTERS = [
    "connections_accepted", "connections_refused", "messages_in", "status_updates", "hook_events", "unknown_hook_events",
    "errors_sent", "broadcasts", "slow_consumers_dropped", "sessions_created", "sessions_removed",
  ];

  test("keys in order, values describe this daemon", async () => {
    const d = await startDaemon();
    const c = await d.client();
    c.request("stats");
    const line = (await c.nextLine()) as string;
    expect(line).not.toContain(" ");
    const s = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(s)).toEqual(TOP);
    expect(Object.keys(s.counters as object)).toEqual(COUNTERS);
    expect(Object.keys(s.protocol_version as object)).toEqual(["major", "minor"]);
    expect(s.protocol_version).toEqual({ major: 1, minor: 0 });
    expect(s.version as string).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.pid).toBe(d.proc.pid);
    expect(s.socket).toBe(d.socket);
    expect(s.started_at as string).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00$/);
    expect(Number.isInteger(s.uptime_seconds)).toBe(true);
    expect(s.max_sessions).toBe(100);
    expect(s.max_connections).toBe(256);
    expect(s.max_subscribers).toBe(64);
    expect(s.sessions).toBe(0);
    expect(Number.isInteger(s.rss_bytes) && (s.rss_bytes as number) > 1_000_000).toBe(true);
    expect(Number.isFinite(s.cpu_percent)).toBe(true);
    for (const k of COUNTERS) expect(Number.isInteger((s.counters as Record<string, unknown>)[k])).toBe(true);
    c.close();
    await finish(d);
  });

  test("counters move by exactly what happened", async () => {
    const d = await startDaemon();
    const c = await d.client("counting");
    const s1 = await statsUntil(c, (s) => s.connections === 1);
    const k1 = s1.counters as Record<string, number>;
    const pid = livePid();
    c.request("status_update", { data: statusData("cnt", pid) }); // +1 status_updates, +1 created, +1 broadcast
    c.send("nope\n"); // +1 errors_sent
    c.send("\n"); // blank: not counted
    c.request("hook_event", { data: { session_id: "cnt", hook_event_name: "SomeFutureEvent", pid } }); // +1 hook, +1 unknown
    c.request("subscribe");
    sessionsOf(await c.expect("session_list"));
    c.request("status_update", { data: statusData("cnt", pid) }); // +1 status_updates, +1 broadcast
    expect((await c.next())?.type).toBe("session_updated");
    const other = await d.client("other"); // +1 accepted, its connect +0 here (different conn) but counts in messages_in
    const s2 = await stats(c);
    const k2 = s2.counters as Record<string, number>;
    const delta = (k: string) => (k2[k] as number) - (k1[k] as number);
    expect(delta("connections_accepted")).toBe(1);
    expect(delta("connections_refused")).toBe(0);
    // status_update, nope, hook_event, subscribe, status_update, stats on c + connect on other
    expect(delta("messages_in")).toBe(7);
    expect(delta("status_updates")).toBe(2);
    expect(delta("hook_events")).toBe(1);
    expect(delta("unknown_hook_events")).toBe(1);
    expect(delta("errors_sent")).toBe(1);
    expect(delta("broadcasts")).toBe(2);
    expect(delta("sessions_created")).toBe(1);
    expect(delta("sessions_removed")).toBe(0);
    expect(delta("slow_consumers_dropped")).toBe(0);
    expect(s2.sessions).toBe(1);
    expect(s2.subscribers).toBe(1);
    expect(s2.connections).toBe(2);
    other.close();
    c.close();
    await finish(d);
  });
});
