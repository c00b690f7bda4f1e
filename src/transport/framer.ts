// The ring-buffer line framer: bytes in, complete lines out (PROTOCOL.md §3). Pure — plain
// Uint8Array in, no Bun APIs. Memory per connection is bounded by the line cap: a partial line is
// kept in a ring that grows on demand up to `maxLine` bytes and never beyond; complete lines
// inside an incoming chunk are handed out as views of that chunk without copying.

export type LineHandler = (line: Uint8Array) => void;

/** Result of `push`: `ok`, or `overflow` once a line passed the cap (the framer is then dead). */
export type PushResult = "ok" | "overflow";

const NL = 0x0a;
const CR = 0x0d;
const INITIAL_RING = 4096;
const SHRINK_ABOVE = 64 * 1024;

export class LineFramer {
  private ring: Uint8Array = new Uint8Array(0);
  private head = 0; // index of the first pending byte in `ring`
  private len = 0; // pending bytes (the start of an unterminated line)
  private dead = false;

  /**
   * @param maxLine the most bytes one line may hold **counting its `\n`** (1,048,576 on the wire);
   *   an unterminated line at end of stream may hold `maxLine` bytes of content.
   */
  constructor(readonly maxLine: number) {}

  /** Bytes currently held for an unterminated line. */
  get pending(): number {
    return this.len;
  }

  /** Capacity currently allocated (for memory accounting and tests). */
  get capacity(): number {
    return this.ring.length;
  }

  /**
   * Feeds one chunk. Calls `onLine` for every complete line, in order, with the trailing `\r`
   * removed. The array passed to `onLine` is only valid during the call. Returns `overflow` as
   * soon as a line exceeds the cap; lines completed before it have been delivered.
   */
  push(chunk: Uint8Array, onLine: LineHandler): PushResult {
    if (this.dead) return "overflow";
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) {
        // No terminator: keep the rest, unless it makes the pending line too long. A pending line
        // may reach maxLine bytes (allowed if EOF follows); one more byte of any kind overflows.
        if (this.len + (n - start) > this.maxLine) return this.overflow();
        this.append(chunk, start, n);
        return "ok";
      }
      const segment = nl - start;
      if (this.len + segment + 1 > this.maxLine) return this.overflow();
      if (this.len === 0) {
        emit(chunk.subarray(start, nl), onLine);
      } else {
        this.append(chunk, start, nl);
        const line = this.takeAll();
        emit(line, onLine);
      }
      start = nl + 1;
    }
    return "ok";
  }

  /** End of stream: hands back a final unterminated line, if any. */
  end(onLine: LineHandler): void {
    if (this.dead || this.len === 0) return;
    const line = this.takeAll();
    emit(line, onLine);
  }

  private overflow(): PushResult {
    this.dead = true;
    this.ring = new Uint8Array(0);
    this.head = 0;
    this.len = 0;
    return "overflow";
  }

  /** Copies chunk[from, to) to the end of the ring, growing it (power of two, <= maxLine). */
  private append(chunk: Uint8Array, from: number, to: number): void {
    const add = to - from;
    if (add === 0) return;
    const need = this.len + add;
    if (need > this.ring.length) this.grow(need);
    const cap = this.ring.length;
    let tail = (this.head + this.len) % cap;
    let src = from;
    while (src < to) {
      const run = Math.min(to - src, cap - tail);
      this.ring.set(chunk.subarray(src, src + run), tail);
      src += run;
      tail = (tail + run) % cap;
    }
    this.len = need;
  }

  private grow(need: number): void {
    let cap = Math.max(INITIAL_RING, this.ring.length);
    while (cap < need) cap *= 2;
    cap = Math.min(cap, Math.max(need, this.maxLine));
    const next = new Uint8Array(cap);
    this.copyOut(next);
    this.ring = next;
    this.head = 0;
  }

  /** Copies the pending bytes, in order, to the start of `dst`. */
  private copyOut(dst: Uint8Array): void {
    if (this.len === 0) return;
    const cap = this.ring.length;
    const first = Math.min(this.len, cap - this.head);
    dst.set(this.ring.subarray(this.head, this.head + first), 0);
    if (first < this.len) dst.set(this.ring.subarray(0, this.len - first), first);
  }

  /**
   * Removes and returns all pending bytes as one contiguous array: a view of the ring when the
   * line does not wrap, a copy when it does. The head moves on past the line, so the next partial
   * line continues in the ring right after it; the view stays valid until the next `append`,
   * which only happens after the handler has returned.
   */
  private takeAll(): Uint8Array {
    const cap = this.ring.length;
    let line: Uint8Array;
    if (this.head + this.len <= cap) {
      line = this.ring.subarray(this.head, this.head + this.len);
    } else {
      line = new Uint8Array(this.len);
      this.copyOut(line);
    }
    this.head = (this.head + this.len) % cap;
    this.len = 0;
    if (cap > SHRINK_ABOVE) {
      // Give back the memory a one-off huge line made us allocate; the next partial line regrows.
      line = line.slice();
      this.ring = new Uint8Array(0);
      this.head = 0;
    }
    return line;
  }
}

function emit(line: Uint8Array, onLine: LineHandler): void {
  const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  onLine(end === line.length ? line : line.subarray(0, end));
}
