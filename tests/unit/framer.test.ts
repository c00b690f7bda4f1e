import { describe, expect, test } from "bun:test";
import { LineFramer } from "../../src/transport/framer.ts";
import { rng } from "../helpers/rng.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function feed(framer: LineFramer, chunks: Uint8Array[], withEnd = true): { lines: string[]; overflow: boolean } {
  const lines: string[] = [];
  const on = (l: Uint8Array) => lines.push(dec.decode(l));
  for (const c of chunks) {
    if (framer.push(c, on) === "overflow") return { lines, overflow: true };
  }
  if (withEnd) framer.end(on);
  return { lines, overflow: false };
}


function randomSplit(bytes: Uint8Array, rand: () => number, maxPiece: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(rand() * maxPiece);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

describe("LineFramer", () => {
  test("splits on \\n and strips one trailing \\r", () => {
    const f = new LineFramer(1024);
    const { lines } = feed(f, [enc.encode('a\nb\r\nc\r\r\n\nd')]);
    expect(lines).toEqual(["a", "b", "c\r", "", "d"]);
  });

  test("final unterminated line is handed back at end of stream", () => {
    const f = new LineFramer(1024);
    const { lines } = feed(f, [enc.encode("one\ntw"), enc.encode("o")]);
    expect(lines).toEqual(["one", "two"]);
  });

  test("nothing pending at end gives no extra line", () => {
    const f = new LineFramer(1024);
    expect(feed(f, [enc.encode("x\n")]).lines).toEqual(["x"]);
  });

  test("a line of exactly the cap counting its \\n passes; one byte more overflows", () => {
    const cap = 100;
    const ok = new LineFramer(cap);
    const body = "x".repeat(cap - 1);
    expect(feed(ok, [enc.encode(`${body}\n`)]).lines).toEqual([body]);
    const bad = new LineFramer(cap);
    expect(feed(bad, [enc.encode(`${body}x\n`)]).overflow).toBe(true);
  });

  test("an unterminated last line may hold cap bytes; cap+1 overflows", () => {
    const cap = 100;
    const ok = new LineFramer(cap);
    expect(feed(ok, [enc.encode("y".repeat(cap))]).lines).toEqual(["y".repeat(cap)]);
    const bad = new LineFramer(cap);
    expect(feed(bad, [enc.encode("y".repeat(cap + 1))]).overflow).toBe(true);
  });

  test("overflow is reported as soon as the cap is passed, lines before it delivered, nothing buffered", () => {
    const cap = 1000;
    const f = new LineFramer(cap);
    const lines: string[] = [];
    const on = (l: Uint8Array) => lines.push(dec.decode(l));
    expect(f.push(enc.encode("first\n"), on)).toBe("ok");
    let result: string = "ok";
    let fed = 0;
    while (result === "ok") {
      result = f.push(enc.encode("z".repeat(100)), on);
      fed += 100;
      expect(fed).toBeLessThanOrEqual(cap + 100);
    }
    expect(result).toBe("overflow");
    expect(lines).toEqual(["first"]);
    expect(f.pending).toBe(0);
    expect(f.capacity).toBe(0);
    // Dead afterwards: further input is refused, not buffered.
    expect(f.push(enc.encode("\n"), on)).toBe("overflow");
  });

  test("buffer never grows beyond the cap", () => {
    const cap = 10_000;
    const f = new LineFramer(cap);
    const on = () => {};
    for (let i = 0; i < 99; i++) f.push(enc.encode("q".repeat(100)), on);
    expect(f.pending).toBe(9900);
    expect(f.capacity).toBeLessThanOrEqual(cap);
  });

  test("the ring wraps: many partial lines through one ring keep their bytes", () => {
    const f = new LineFramer(1 << 20);
    const lines: string[] = [];
    const on = (l: Uint8Array) => lines.push(dec.decode(l));
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const s = `line-${i}-${"w".repeat(i % 37)}`;
      expected.push(s);
      // Split every line in two so each one passes through the ring.
      const b = enc.encode(`${s}\n`);
      const cut = Math.max(1, Math.floor(b.length / 2));
      f.push(b.subarray(0, cut), on);
      f.push(b.subarray(cut), on);
    }
    expect(lines).toEqual(expected);
    expect(f.capacity).toBeLessThanOrEqual(8192);
  });

  test("property: any random split of a byte stream yields exactly the same lines", () => {
    const rand = rng(0xa7d);
    const samples = ["", "a", "héllo wörld", "日本語のテキスト", "emoji 🧑‍💻🎉", "\r", "tab\there", '{"type":"ping","seq":1}'];
    for (let round = 0; round < 300; round++) {
      // Build a stream of random lines from the samples (multi-byte UTF-8 included).
      const parts: string[] = [];
      const count = Math.floor(rand() * 30);
      for (let i = 0; i < count; i++) {
        let line = "";
        const k = Math.floor(rand() * 4);
        for (let j = 0; j < k; j++) line += samples[Math.floor(rand() * samples.length)];
        parts.push(line);
      }
      const trailing = rand() < 0.5;
      const text = parts.join("\n") + (trailing ? "\n" : "");
      const bytes = enc.encode(text);
      const reference = feed(new LineFramer(1 << 20), [bytes]).lines;
      for (let split = 0; split < 20; split++) {
        const chunks = randomSplit(bytes, rand, 1 + Math.floor(rand() * 16));
        const got = feed(new LineFramer(1 << 20), chunks).lines;
        expect(got).toEqual(reference);
      }
    }
  });

  test("property: random splits agree with a naive split on \\n", () => {
    const rand = rng(7);
    for (let round = 0; round < 200; round++) {
      const bytes = new Uint8Array(Math.floor(rand() * 400));
      for (let i = 0; i < bytes.length; i++) {
        const r = rand();
        bytes[i] = r < 0.1 ? 0x0a : r < 0.15 ? 0x0d : 0x41 + Math.floor(rand() * 26);
      }
      const naive: string[] = [];
      let s = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i === bytes.length || bytes[i] === 0x0a) {
          if (i === bytes.length && s === i) break;
          let e = i;
          if (e > s && bytes[e - 1] === 0x0d) e--;
          naive.push(dec.decode(bytes.subarray(s, e)));
          s = i + 1;
        }
      }
      for (let split = 0; split < 10; split++) {
        const got = feed(new LineFramer(1 << 20), randomSplit(bytes, rand, 50)).lines;
        expect(got).toEqual(naive);
      }
    }
  });
});
