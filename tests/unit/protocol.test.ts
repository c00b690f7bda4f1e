import { describe, expect, test } from "bun:test";
import { classify, daemon, parseLine } from "../../src/protocol/messages.ts";

const enc = new TextEncoder();
const line = (s: string) => parseLine(enc.encode(s));
const V = { major: 1, minor: 0 };

describe("parseLine: framing-level rules (PROTOCOL.md §3.1)", () => {
  test.each(["", " ", "\t", "\r", " \t\r "])("blank line %j is ignored", (s) => {
    expect(line(s)).toEqual({ kind: "ignore" });
  });

  test("invalid UTF-8 is invalid_json with the fixed text", () => {
    expect(parseLine(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({ kind: "invalid_json", message: "Invalid JSON: invalid UTF-8" });
  });

  test.each(["{", "nope", '{"a":1} {"b":2}', "{'a':1}"])("%j is invalid_json", (s) => {
    const r = line(s);
    expect(r.kind).toBe("invalid_json");
    if (r.kind === "invalid_json") expect(r.message.startsWith("Invalid JSON: ")).toBe(true);
  });

  test("whitespace around the value is allowed", () => {
    expect(line(` \t{"protocol_version":{"major":1,"minor":0},"type":"ping","seq":1}  `)).toEqual({
      kind: "message",
      message: { type: "ping", seq: 1 },
    });
  });
});

describe("classify: the ordered envelope checks (PROTOCOL.md §4.2/§4.4)", () => {
  const rows: Array<[string, unknown, unknown]> = [
    ["array", [1], { kind: "invalid", message: "Invalid message: expected a JSON object" }],
    ["null", null, { kind: "invalid", message: "Invalid message: expected a JSON object" }],
    ["number", 3, { kind: "invalid", message: "Invalid message: expected a JSON object" }],
    ["no protocol_version", { type: "ping", seq: 1 }, { kind: "invalid", message: "Invalid message: missing field `protocol_version`" }],
    ["protocol_version array", { protocol_version: [1, 0], type: "connect" }, { kind: "invalid" }],
    ["minor missing", { protocol_version: { major: 1 }, type: "connect" }, { kind: "invalid", message: "Invalid message: missing field `minor`" }],
    ["major out of range", { protocol_version: { major: 70000, minor: 0 }, type: "connect" }, { kind: "invalid" }],
    ["major fractional", { protocol_version: { major: 1.5, minor: 0 }, type: "connect" }, { kind: "invalid" }],
    ["major 2 before the type is looked at", { protocol_version: { major: 2, minor: 3 } }, { kind: "version", major: 2, minor: 3 }],
    ["type missing", { protocol_version: V }, { kind: "invalid", message: "Invalid message: missing field `type`" }],
    ["type not a string", { protocol_version: V, type: 0 }, { kind: "invalid" }],
    ["unknown type", { protocol_version: V, type: "pi_event" }, { kind: "unknown_type", type: "pi_event" }],
    ["type is case-sensitive", { protocol_version: V, type: "Ping", seq: 1 }, { kind: "unknown_type", type: "Ping" }],
    ["ping without seq", { protocol_version: V, type: "ping" }, { kind: "bad_fields", type: "ping", message: "Invalid message: missing field `seq`" }],
    ["ping seq -1", { protocol_version: V, type: "ping", seq: -1 }, { kind: "bad_fields", type: "ping", message: "Invalid message: invalid type for `seq`: expected a non-negative integer" }],
    ["ping seq string", { protocol_version: V, type: "ping", seq: "x" }, { kind: "bad_fields", type: "ping" }],
    ["ping seq 2^53", { protocol_version: V, type: "ping", seq: 2 ** 53 }, { kind: "bad_fields", type: "ping" }],
    ["ping seq 2^53-1", { protocol_version: V, type: "ping", seq: 2 ** 53 - 1 }, { kind: "message", message: { type: "ping", seq: 2 ** 53 - 1 } }],
    ["connect client_id 5", { protocol_version: V, type: "connect", client_id: 5 }, { kind: "bad_fields", type: "connect" }],
    ["connect client_id null", { protocol_version: V, type: "connect", client_id: null }, { kind: "message", message: { type: "connect", client_id: null } }],
    ["connect client_id empty", { protocol_version: V, type: "connect", client_id: "" }, { kind: "message", message: { type: "connect", client_id: "" } }],
    ["minor ignored", { protocol_version: { major: 1, minor: 7, patch: 3 }, type: "list_sessions" }, { kind: "message", message: { type: "list_sessions" } }],
    ["status_update without data", { protocol_version: V, type: "status_update" }, { kind: "bad_fields", type: "status_update", message: "Invalid message: missing field `data`" }],
    ["hook_event data null is present", { protocol_version: V, type: "hook_event", data: null }, { kind: "message", message: { type: "hook_event", data: null } }],
    ["subscribe session_id 7", { protocol_version: V, type: "subscribe", session_id: 7 }, { kind: "bad_fields", type: "subscribe" }],
    ["subscribe filter", { protocol_version: V, type: "subscribe", session_id: "abc" }, { kind: "message", message: { type: "subscribe", session_id: "abc" } }],
    ["unknown fields ignored", { protocol_version: V, type: "stats", extra: { deep: [1] } }, { kind: "message", message: { type: "stats" } }],
  ];
  test.each(rows)("%s", (_name, input, expected) => {
    expect(classify(input)).toMatchObject(expected as object);
  });
});

describe("daemon messages (PROTOCOL.md §8)", () => {
  test("exact bytes, keys in wire order, one newline", () => {
    expect(daemon.connected("client-0")).toBe('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"client-0"}\n');
    expect(daemon.rejected(2, 0)).toBe(
      '{"type":"rejected","reason":"Protocol version 2.0 not compatible with server version 1.0","protocol_version":{"major":1,"minor":0}}\n',
    );
    expect(daemon.pong(42)).toBe('{"type":"pong","seq":42}\n');
    expect(daemon.sessionList([])).toBe('{"type":"session_list","sessions":[]}\n');
    expect(daemon.sessionRemoved("x")).toBe('{"type":"session_removed","session_id":"x"}\n');
    expect(daemon.error("Already connected", "already_connected")).toBe('{"type":"error","message":"Already connected","code":"already_connected"}\n');
    expect(daemon.discoveryComplete(2, 0)).toBe('{"type":"discovery_complete","discovered":2,"failed":0}\n');
  });

  test("non-ASCII is written as itself", () => {
    expect(daemon.sessionRemoved("héllo-日本")).toBe('{"type":"session_removed","session_id":"héllo-日本"}\n');
  });
});
