import { describe, expect, test } from "bun:test";
import { OutboundQueue } from "../../src/transport/outbound.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fake socket: accepts up to `room` bytes per write, records what it took. */
function fakeSocket(room = Infinity) {
  const state = { room, taken: [] as string[], writes: 0, closed: false };
  const write = (data: Uint8Array): number => {
    state.writes++;
    if (state.closed) return -1;
    const n = Math.min(data.length, state.room);
    state.room -= n;
    state.taken.push(dec.decode(data.subarray(0, n)));
    return n;
  };
  return { state, write, received: () => state.taken.join("") };
}

/** Manual scheduler: flushes run only when the test says so (one "turn"). */
function manual() {
  const jobs: Array<() => void> = [];
  return { schedule: (f: () => void) => jobs.push(f), run: () => jobs.splice(0).forEach((f) => f()) };
}

describe("OutboundQueue", () => {
  test("everything queued in one turn goes out in a single write", () => {
    const s = fakeSocket();
    const m = manual();
    const q = new OutboundQueue(s.write, 1000, m.schedule);
    q.enqueue(enc.encode("a\n"));
    q.enqueue(enc.encode("b\n"));
    q.enqueue(enc.encode("c\n"));
    expect(s.state.writes).toBe(0);
    m.run();
    expect(s.state.writes).toBe(1);
    expect(s.received()).toBe("a\nb\nc\n");
    expect(q.isEmpty).toBe(true);
  });

  test("a short write keeps the unsent tail and resumes on drain, in order", () => {
    const s = fakeSocket(3);
    const m = manual();
    const q = new OutboundQueue(s.write, 1000, m.schedule);
    q.enqueue(enc.encode("hello\n"));
    m.run();
    expect(s.received()).toBe("hel");
    expect(q.bytesQueued).toBe(3);
    q.enqueue(enc.encode("world\n"));
    m.run(); // still waiting for drain: no write attempted
    expect(s.state.writes).toBe(1);
    s.state.room = Infinity;
    q.onDrain();
    expect(s.received()).toBe("hello\nworld\n");
    expect(q.isEmpty).toBe(true);
    expect(q.nonEmptySince).toBeNull();
  });

  test("over the cap: keeps the rest of the partly written line, drops the rest, appends the error line", () => {
    const s = fakeSocket(4);
    const m = manual();
    const q = new OutboundQueue(s.write, 20, m.schedule);
    q.enqueue(enc.encode("line1\nline2\n"));
    m.run(); // "line" written, "1\nline2\n" kept
    expect(q.enqueue(enc.encode("x".repeat(30)), enc.encode("ERR\n"))).toBe("overflow");
    expect(q.hasOverflowed).toBe(true);
    expect(q.enqueue(enc.encode("more\n"))).toBe("closed");
    s.state.room = Infinity;
    q.onDrain();
    expect(s.received()).toBe("line1\nERR\n");
  });

  test("over the cap at a line boundary: nothing but the error line", () => {
    const s = fakeSocket(6);
    const m = manual();
    const q = new OutboundQueue(s.write, 15, m.schedule);
    q.enqueue(enc.encode("line1\nline2\n"));
    m.run(); // exactly "line1\n" written
    q.enqueue(enc.encode("y".repeat(20)), enc.encode("ERR\n"));
    s.state.room = Infinity;
    q.onDrain();
    expect(s.received()).toBe("line1\nERR\n");
  });

  test("shared bytes are never mutated", () => {
    const s = fakeSocket(2);
    const m = manual();
    const q = new OutboundQueue(s.write, 100, m.schedule);
    const shared = enc.encode("shared\n");
    q.enqueue(shared);
    m.run();
    s.state.room = Infinity;
    q.onDrain();
    expect(dec.decode(shared)).toBe("shared\n");
  });

  test("nonEmptySince tracks how long the queue has been waiting", () => {
    let t = 100;
    const s = fakeSocket(0);
    const m = manual();
    const q = new OutboundQueue(s.write, 100, m.schedule, () => t);
    q.enqueue(enc.encode("a\n"));
    m.run();
    t = 500;
    q.enqueue(enc.encode("b\n"));
    expect(q.nonEmptySince).toBe(100);
  });

  test("an overflow keeps the write-stall clock running from when the queue filled", () => {
    let t = 0;
    const s = fakeSocket(6);
    const m = manual();
    const q = new OutboundQueue(s.write, 15, m.schedule, () => t);
    q.enqueue(enc.encode("line1\nline2\n"));
    m.run(); // "line1\n" written; "line2\n" waits for drain, at a line boundary
    t = 9000;
    q.enqueue(enc.encode("z".repeat(20)), enc.encode("ERR\n"));
    expect(q.nonEmptySince).toBe(0);
  });

  test("a closed socket (-1) drops the queue", () => {
    const s = fakeSocket();
    s.state.closed = true;
    const m = manual();
    const q = new OutboundQueue(s.write, 100, m.schedule);
    q.enqueue(enc.encode("a\n"));
    m.run();
    expect(q.isEmpty).toBe(true);
    expect(q.enqueue(enc.encode("b\n"))).toBe("closed");
  });
});
