// The ForwardIo of forward.ts without FFI: node:fs and Bun.connect. Used where the libc binding is
// unavailable (macOS, other architectures, ATM_HOOK_NO_FFI=1); ~1.5 ms slower to start.
import { closeSync, constants as fsConstants, openSync, readSync, statSync } from "node:fs";
import { nodeProcFs } from "../system/procfs-node.ts";
import type { ForwardIo, Result, SocketCheck } from "./forward.ts";

/**
 * Reads stdin without blocking: `eof` when it reached the end, otherwise the caller continues
 * with the stream. Null when more than `limit` bytes arrived.
 */
function readAvailable(limit: number, deadline = Infinity): { chunks: Uint8Array[]; eof: boolean } | null | undefined {
  const chunks: Uint8Array[] = [];
  if (process.platform !== "linux") return undefined;
  let fd: number;
  try {
    fd = openSync("/proc/self/fd/0", fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  let total = 0;
  try {
    for (;;) {
      const buf = new Uint8Array(65536);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        return { chunks, eof: false }; // EAGAIN: the writer is still at it
      }
      if (n === 0) return { chunks, eof: true };
      total += n;
      if (total > limit) return null;
      chunks.push(buf.subarray(0, n));
      if (performance.now() >= deadline) return { chunks, eof: false }; // the stream goes on
    }
  } finally {
    closeSync(fd);
  }
}

/** §10.2 step 6: the socket must exist, be a socket and belong to the current user. */
function checkSocket(path: string): SocketCheck {
  let st;
  try {
    st = statSync(path);
  } catch {
    return "no-socket";
  }
  if (!st.isSocket()) return "no-socket";
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return "foreign-socket";
  return "ok";
}

/**
 * Connects, writes `payload` (keeping the unsent tail across short writes, BUN-NOTES §0.1), then
 * ends the connection without reading. Resolves to `sent`, `connect-failed` or `timeout` (when
 * `deadline`, a `performance.now()` value, passes first).
 */
function sendOnce(path: string, payload: Uint8Array, deadline: number): Promise<Result> {
  return new Promise<Result>((resolve) => {
    let rest: Uint8Array = payload;
    let done = false;
    const finish = (r: Result): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish("timeout"), Math.max(0, deadline - performance.now()));
    const pump = (s: { write(b: Uint8Array): number; end(): void }): void => {
      const n = s.write(rest);
      if (n < 0) return finish("connect-failed");
      rest = rest.subarray(n);
      if (rest.length === 0) {
        s.end();
        finish("sent");
      }
    };
    Bun.connect({
      unix: path,
      socket: {
        open: pump,
        drain: pump,
        data() {},
        error() {
          finish("connect-failed");
        },
        close() {
          finish(rest.length === 0 ? "sent" : "connect-failed");
        },
        connectError() {
          finish("connect-failed");
        },
      },
    }).catch(() => finish("connect-failed"));
  });
}


export const nodeForwardIo: ForwardIo = {
  ...nodeProcFs,
  readStdinNow: readAvailable,
  checkSocket,
  send: sendOnce,
};
