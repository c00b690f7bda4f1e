// One connection's write queue (PROTOCOL.md §11). Bun's socket.write() is unbuffered — it returns
// how many bytes the kernel took and drops the rest — so unsent tails are kept here and resumed on
// `drain`. Everything queued during one event-loop turn goes out in a single write. The queue is
// capped: a consumer that lets more than `cap` bytes pile up is cut off with one final error line.
import { concatBytes } from "../system/bytes.ts";

/** The one thing the queue needs from a socket. Returns bytes accepted (0 when full, -1 closed). */
export type WriteFn = (data: Uint8Array) => number;

export type EnqueueResult = "queued" | "overflow" | "closed";

const NL = 0x0a;

export class OutboundQueue {
  private chunks: Uint8Array[] = []; // waiting, in order; never written yet
  private tail: Uint8Array | null = null; // unsent remainder of the last write
  private tailStartsLine = true; // whether `tail` begins at a line boundary
  private queued = 0; // bytes in chunks + tail
  private waitingForDrain = false;
  private scheduled = false;
  private overflowed = false;
  private dead = false;
  /** performance.now() when the queue last went from empty to non-empty; null when empty. */
  nonEmptySince: number | null = null;

  constructor(
    private readonly write: WriteFn,
    private readonly cap: number,
    private readonly schedule: (flush: () => void) => void = queueMicrotask,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get bytesQueued(): number {
    return this.queued;
  }

  get isEmpty(): boolean {
    return this.queued === 0;
  }

  /** True once the cap was exceeded; nothing but the final error line is sent after that. */
  get hasOverflowed(): boolean {
    return this.overflowed;
  }

  /**
   * Queues bytes (shared between subscribers: never mutated). When they would take the queue over
   * the cap, the queue keeps only the rest of the line being written, appends `overflowLine`, and
   * reports `overflow`; the caller closes the connection once the queue is empty.
   */
  enqueue(data: Uint8Array, overflowLine?: Uint8Array): EnqueueResult {
    if (this.dead || this.overflowed) return "closed";
    if (this.queued + data.length > this.cap) {
      // The queue never emptied: the write-stall clock keeps running from when it filled.
      const since = this.nonEmptySince;
      this.overflowed = true;
      this.chunks = [];
      this.queued = 0;
      if (this.tail !== null) {
        if (this.tailStartsLine) {
          this.tail = null;
        } else {
          const nl = this.tail.indexOf(NL);
          this.tail = nl < 0 ? this.tail : this.tail.subarray(0, nl + 1);
          this.queued = this.tail.length;
        }
      }
      if (overflowLine) this.push(overflowLine);
      if (since !== null && this.queued > 0) this.nonEmptySince = since;
      this.kick();
      return "overflow";
    }
    this.push(data);
    this.kick();
    return "queued";
  }

  /** The socket is writable again: continue with what is left. */
  onDrain(): void {
    this.waitingForDrain = false;
    this.flush();
  }

  /** The socket is gone: drop everything. */
  close(): void {
    this.dead = true;
    this.chunks = [];
    this.tail = null;
    this.queued = 0;
    this.nonEmptySince = null;
  }

  /** Writes now, without waiting for the end of the turn (used before closing). */
  flush(): void {
    this.scheduled = false;
    if (this.dead || this.waitingForDrain || this.queued === 0) return;
    let data: Uint8Array;
    if (this.tail !== null && this.chunks.length === 0) {
      data = this.tail;
    } else {
      const parts = this.tail !== null ? [this.tail, ...this.chunks] : this.chunks;
      data = parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(parts, this.queued);
    }
    this.chunks = [];
    this.tail = null;
    const n = this.write(data);
    if (n < 0) {
      // Closed under us; the close handler cleans up.
      this.close();
      return;
    }
    if (n >= data.length) {
      this.queued = 0;
      this.nonEmptySince = null;
      this.tailStartsLine = true;
      return;
    }
    this.tail = data.subarray(n);
    this.tailStartsLine = n === 0 ? this.tailStartsLine : data[n - 1] === NL;
    this.queued = this.tail.length;
    this.waitingForDrain = true;
  }

  private push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.queued === 0) this.nonEmptySince = this.clock();
    this.chunks.push(data);
    this.queued += data.length;
  }

  private kick(): void {
    if (this.scheduled || this.waitingForDrain) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }
}

