// Unified diff of two texts, line based, 3 lines of context (DAEMON.md §12.7), in the format of
// `diff -u` (hunk ranges `start,count`, `,1` omitted, `\ No newline at end of file`).

type Op = { kind: " " | "-" | "+"; line: string; noEol: boolean };

/**
 * Lines with their terminator: the last line of a text without a final newline is a different
 * line from the same text with one (as `diff` sees it), so it never pairs up as context.
 */
function splitLines(text: string): { lines: string[]; keys: string[]; noEol: boolean } {
  if (text === "") return { lines: [], keys: [], noEol: false };
  const noEol = !text.endsWith("\n");
  const lines = (noEol ? text : text.slice(0, -1)).split("\n");
  const keys = lines.map((l, i) => (noEol && i === lines.length - 1 ? l : `${l}\n`));
  return { lines, keys, noEol };
}

/** Beyond this many edits the middle is shown as one replacement (bounded time and memory). */
const MAX_EDITS = 2000;

/**
 * Shortest edit script between two line arrays: common prefix and suffix first, then Myers'
 * O(ND) on the rest, keeping per step only the 2d+1 diagonals it reached (memory O(D²), not
 * O(D·N)); past MAX_EDITS edits the rest is delete-all/insert-all, still a correct diff.
 */
function editScript(a: string[], b: string[]): (" " | "-" | "+")[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const mid = myers(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf));
  return [...Array<" ">(pre).fill(" "), ...mid, ...Array<" ">(suf).fill(" ")];
}

function myers(a: string[], b: string[]): (" " | "-" | "+")[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return [...Array<"-">(n).fill("-"), ...Array<"+">(m).fill("+")];
  const max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = []; // trace[d] = v[off-d .. off+d] before step d
  let found = false;
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice(off - d, off + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[off + k - 1] as number) < (v[off + k + 1] as number))) x = v[off + k + 1] as number;
      else x = (v[off + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break outer;
      }
    }
  }
  if (!found) return [...Array<"-">(n).fill("-"), ...Array<"+">(m).fill("+")];
  // Backtrack. trace[d] holds diagonals -d..d at index k + d.
  const at = (vd: Int32Array, d: number, k: number): number => vd[k + d] as number;
  const ops: (" " | "-" | "+")[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const vd = trace[d] as Int32Array; // values after step d-1, for diagonals -d..d
    const k = x - y;
    const prevK = k === -d || (k !== d && at(vd, d, k - 1) < at(vd, d, k + 1)) ? k + 1 : k - 1;
    const prevX = at(vd, d, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(" ");
      x--;
      y--;
    }
    ops.push(x === prevX ? "+" : "-");
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push(" ");
    x--;
    y--;
  }
  return ops.reverse();
}

function range(start: number, count: number): string {
  if (count === 1) return `${start}`;
  return `${count === 0 ? start - 1 : start},${count}`;
}

/**
 * `--- <fromLabel>` / `+++ <toLabel>` and the hunks; the empty string when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, fromLabel: string, toLabel: string, context = 3): string {
  if (before === after) return "";
  const A = splitLines(before);
  const B = splitLines(after);
  const script = editScript(A.keys, B.keys);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  for (const s of script) {
    if (s === " ") {
      // Equal keys: both lines are last-without-newline, or neither is.
      ops.push({ kind: " ", line: A.lines[i] as string, noEol: i === A.lines.length - 1 && A.noEol });
      i++;
      j++;
    } else if (s === "-") {
      ops.push({ kind: "-", line: A.lines[i] as string, noEol: i === A.lines.length - 1 && A.noEol });
      i++;
    } else {
      ops.push({ kind: "+", line: B.lines[j] as string, noEol: j === B.lines.length - 1 && B.noEol });
      j++;
    }
  }
  // Within each run of changes, removed lines come before added ones (as `diff -u` shows them).
  for (let r = 0; r < ops.length; ) {
    if ((ops[r] as Op).kind === " ") {
      r++;
      continue;
    }
    let e = r;
    while (e < ops.length && (ops[e] as Op).kind !== " ") e++;
    const run = ops.slice(r, e);
    ops.splice(r, e - r, ...run.filter((o) => o.kind === "-"), ...run.filter((o) => o.kind === "+"));
    r = e;
  }
  // Group changes into hunks with `context` lines around them.
  const out: string[] = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  let idx = 0;
  while (idx < ops.length) {
    while (idx < ops.length && (ops[idx] as Op).kind === " ") idx++;
    if (idx >= ops.length) break;
    const start = Math.max(0, idx - context);
    let end = idx;
    // Extend while the next change is within 2*context unchanged lines.
    for (;;) {
      while (end < ops.length && (ops[end] as Op).kind !== " ") end++;
      let next = end;
      while (next < ops.length && (ops[next] as Op).kind === " ") next++;
      if (next < ops.length && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = Math.min(ops.length, end + context);
      break;
    }
    // Line numbers at `start`.
    let aLine = 1;
    let bLine = 1;
    for (let t = 0; t < start; t++) {
      const k = (ops[t] as Op).kind;
      if (k !== "+") aLine++;
      if (k !== "-") bLine++;
    }
    let aCount = 0;
    let bCount = 0;
    const body: string[] = [];
    for (let t = start; t < end; t++) {
      const op = ops[t] as Op;
      if (op.kind !== "+") aCount++;
      if (op.kind !== "-") bCount++;
      body.push(op.kind + op.line);
      if (op.noEol) body.push("\\ No newline at end of file");
    }
    out.push(`@@ -${range(aLine, aCount)} +${range(bLine, bCount)} @@`, ...body);
    idx = end;
  }
  return `${out.join("\n")}\n`;
}
