import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unifiedDiff } from "../../src/integration/diff.ts";

const dir = mkdtempSync(join(tmpdir(), "atmd-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GNU `diff -u` body (without the two header lines), for comparison. */
function gnu(a: string, b: string): string | null {
  if (Bun.which("diff") === null) return null;
  writeFileSync(join(dir, "a"), a);
  writeFileSync(join(dir, "b"), b);
  const r = Bun.spawnSync(["diff", "-u", join(dir, "a"), join(dir, "b")]);
  return r.stdout.toString().split("\n").slice(2).join("\n");
}

function ours(a: string, b: string): string {
  return unifiedDiff(a, b, "A", "B").split("\n").slice(2).join("\n");
}

/** Applies a unified diff body (hunks only) to `a`. */
function apply(a: string, body: string): string {
  const src = a === "" ? [] : a.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let pos = 0;
  let noEolOut = !a.endsWith("\n") && a !== "";
  const lines = body.split("\n");
  let last = "";
  for (const l of lines) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(l);
    if (m) {
      const start = Number(m[1]) - (m[2] === "0" ? 0 : 1);
      while (pos < start) out.push(src[pos++] as string);
    } else if (l.startsWith(" ")) {
      expect(src[pos]).toBe(l.slice(1));
      out.push(src[pos++] as string);
    } else if (l.startsWith("-")) {
      expect(src[pos]).toBe(l.slice(1));
      pos++;
    } else if (l.startsWith("+")) out.push(l.slice(1));
    else if (l.startsWith("\\")) {
      if (last.startsWith("+") || last.startsWith(" ")) noEolOut = true;
    }
    if (l !== "" && !l.startsWith("\\")) last = l;
    if (l.startsWith("+") || l.startsWith(" ")) noEolOut = false;
  }
  while (pos < src.length) out.push(src[pos++] as string);
  // A "\ No newline" after a + or context line marks the new text's end.
  const text = out.join("\n");
  return out.length === 0 ? "" : noEolOut ? text : `${text}\n`;
}

describe("unifiedDiff", () => {
  test("equal texts → empty", () => {
    expect(unifiedDiff("x\n", "x\n", "a", "b")).toBe("");
  });
  test("headers and a simple hunk", () => {
    expect(unifiedDiff("a\nb\nc\n", "a\nB\nc\n", "/s.json", "/s.json (after atmd setup)")).toBe(
      "--- /s.json\n+++ /s.json (after atmd setup)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
    );
  });
  test("from nothing, to nothing", () => {
    expect(unifiedDiff("", "x\ny\n", "a", "b")).toBe("--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
    expect(unifiedDiff("x\n", "", "a", "b")).toBe("--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
  });
  test("matches GNU diff -u on assorted inputs", () => {
    const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join("\n") + "\n";
    const cases: [string, string][] = [
      [lines(30, (i) => `l${i}`), lines(30, (i) => (i === 3 || i === 25 ? `X${i}` : `l${i}`))],
      [lines(30, (i) => `l${i}`), lines(30, (i) => (i === 10 || i === 15 ? `X${i}` : `l${i}`))],
      [lines(20, (i) => `l${i}`), lines(22, (i) => (i < 5 ? `l${i}` : i < 7 ? `new${i}` : `l${i - 2}`))],
      ['{\n  "a": 1\n}', '{\n  "a": 1,\n  "b": 2\n}\n'],
      ["x\ny", "x\ny\n"],
      [lines(12, (i) => `${i % 3}`), lines(14, (i) => `${i % 4}`)],
    ];
    // deterministic pseudo-random edits
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let c = 0; c < 20; c++) {
      const a = Array.from({ length: 40 }, () => `v${Math.floor(rnd() * 6)}`);
      const b = a.flatMap((l) => (rnd() < 0.1 ? [] : rnd() < 0.1 ? [l, `n${Math.floor(rnd() * 6)}`] : [l]));
      cases.push([a.join("\n") + "\n", b.join("\n") + "\n"]);
    }
    cases.forEach(([a, b], n) => {
      const g = gnu(a, b);
      const d = ours(a, b);
      // Applying our hunks to `a` gives `b`, with context lines that match `a`.
      expect(apply(a, d)).toBe(b);
      if (g === null) return;
      const count = (s: string, c: string) => s.split("\n").filter((l) => l.startsWith(c) && !l.startsWith("@@")).length;
      // Minimal edit script: as many removed/added lines as GNU diff.
      expect(count(d, "-")).toBe(count(g, "-"));
      expect(count(d, "+")).toBe(count(g, "+"));
      // The fixed cases (no ambiguity in the alignment) match GNU diff exactly.
      if (n < 6) expect(d).toBe(g);
    });
  });

  test("a missing final newline on one side only: patch applies it (checked by patch(1) when present)", () => {
    const cases: [string, string][] = [
      ["x", "x\ny\n"],
      ["x\ny\n", "x"],
      ["a\nb", "b\nx\nb\n"],
      ["a\nb\nc", "a\nb\nc\nb"],
      ["p\nq\n", "q\np\nq"],
    ];
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let c = 0; c < 200; c++) {
      const mk = () => Array.from({ length: Math.floor(rnd() * 6) }, () => `v${Math.floor(rnd() * 3)}`).join("\n") + (rnd() < 0.5 ? "\n" : "");
      cases.push([mk(), mk()]);
    }
    const patch = Bun.which("patch");
    for (const [a, b] of cases) {
      if (a === b || a === "\n" || b === "\n") continue;
      const d = unifiedDiff(a, b, "a", "b");
      if (d === "") continue;
      if (patch !== null) {
        writeFileSync(join(dir, "p-a"), a);
        writeFileSync(join(dir, "p.diff"), d);
        const r = Bun.spawnSync([patch, "-s", "-o", join(dir, "p-out"), join(dir, "p-a"), join(dir, "p.diff")]);
        expect(r.exitCode).toBe(0);
        expect(Bun.file(join(dir, "p-out")).size).toBe(Buffer.byteLength(b));
        expect(readFileSync(join(dir, "p-out"), "utf8")).toBe(b);
      }
    }
  });

  test("memory stays bounded: every line changed in a 20,000-line file (was O(edits × lines))", () => {
    const a = `${Array.from({ length: 20_000 }, (_, i) => `    "k${i}": ${i}`).join("\n")}\n`;
    const b = `${Array.from({ length: 20_000 }, (_, i) => `  "k${i}": ${i}`).join("\n")}\n`;
    const before = process.memoryUsage().rss;
    const d = unifiedDiff(a, b, "a", "b");
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
    expect(d.split("\n").filter((l) => l.startsWith("-") && !l.startsWith("---")).length).toBe(20_000);
  });
});
