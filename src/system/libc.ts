// A handful of libc calls through bun:ffi, for `atmd hook` and `atmd statusline` (DAEMON.md §10.1).
// Measured in compiled programs against an empty one: loading node:fs costs ~1.4 ms of start-up;
// Bun's own async file reads and sockets start a thread pool or an event-loop turn (~0.5-0.6 ms
// for the first use); binding these eleven symbols costs ~0.2 ms, and every call after that is a
// plain syscall.
//
// Linux on x64 and arm64 only (the constants below are the asm-generic values both share).
// Everything here is non-blocking or bounded by a caller's deadline: a synchronous FFI call holds
// the JS thread, so the hook's deadline timer could not fire during it.
import { dlopen, FFIType, read as peek } from "bun:ffi";
import { concatBytes } from "./bytes.ts";

const O_RDONLY = 0;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const POLLOUT = 4;
const EINTR = 4;
const EAGAIN = 11;
const EISCONN = 106;
const AT_FDCWD = -100;
const STATX_TYPE = 0x1;
const STATX_UID = 0x8;
const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
/** statx(2) syscall numbers: glibc < 2.28 and musl < 1.2.5 have no `statx` symbol. */
const SYS_STATX: Partial<Record<string, number>> = { x64: 332, arm64: 291 };
/** sun_path holds 108 bytes, the terminating NUL included. */
const SUN_PATH_MAX = 107;

const { i32, i64, u32, u64, ptr } = FFIType;
const SYMBOLS = {
  open: { args: [ptr, i32], returns: i32 },
  read: { args: [i32, ptr, u64], returns: i32 },
  close: { args: [i32], returns: i32 },
  readlink: { args: [ptr, ptr, u64], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  connect: { args: [i32, ptr, u32], returns: i32 },
  send: { args: [i32, ptr, u64, i32], returns: i32 },
  recv: { args: [i32, ptr, u64, i32], returns: i32 },
  poll: { args: [ptr, u64, i32], returns: i32 },
  syscall: { args: [i64, i32, ptr, i32, u32, ptr], returns: i32 },
  __errno_location: { args: [], returns: ptr },
} as const;

type Symbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export type SocketCheck = "ok" | "no-socket" | "foreign-socket";
export type SendResult = "sent" | "connect-failed" | "timeout";

export interface Libc {
  /** The whole file (up to `max` bytes), or null when it cannot be opened or read. */
  readFile(path: string, max?: number): Uint8Array | null;
  /** The target of a symbolic link, or null. */
  readlink(path: string): string | null;
  /**
   * Whatever stdin holds right now, without blocking: `eof` when it reached the end. Null when
   * more than `limit` bytes arrived; `undefined` when stdin cannot be read this way.
   */
  readStdinNow(limit: number): { chunks: Uint8Array[]; eof: boolean } | null | undefined;
  /** DAEMON.md §10.2 step 6: exists, is a socket, belongs to the current user. */
  checkSocket(path: string): SocketCheck;
  /**
   * Connects, writes all of `payload`, closes. Never blocks past `deadline` (a performance.now()
   * value): a full socket buffer is waited on with poll(2), a full listen backlog retried.
   */
  send(path: string, payload: Uint8Array, deadline: number): SendResult;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

function cstr(s: string): Uint8Array {
  return encoder.encode(`${s}\0`);
}

function bind(c: Symbols): Libc {
  const errnoPtr = c.__errno_location();
  const errno = (): number => (errnoPtr === null ? 0 : peek.i32(errnoPtr, 0));
  const scratch = new Uint8Array(65536);

  /** Reads until EOF, an error (EAGAIN included) or more than `max` bytes. */
  function readFd(
    fd: number,
    max: number,
    socket = false,
  ): { chunks: Uint8Array[]; eof: boolean; over: boolean; failed: boolean } {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const n = socket ? c.recv(fd, scratch, scratch.length, MSG_DONTWAIT) : c.read(fd, scratch, scratch.length);
      if (n < 0) {
        if (errno() === EINTR) continue;
        return { chunks, eof: false, over: false, failed: chunks.length === 0 };
      }
      if (n === 0) return { chunks, eof: true, over: false, failed: false };
      total += n;
      if (total > max) return { chunks, eof: false, over: true, failed: false };
      chunks.push(scratch.slice(0, n));
    }
  }

  function sleepMs(ms: number): void {
    c.poll(null, 0, Math.max(0, Math.ceil(ms)));
  }

  return {
    readFile(path, max = 16 * 1024 * 1024) {
      const fd = c.open(cstr(path), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return null;
      try {
        const r = readFd(fd, max);
        if (!r.eof) return null;
        return r.chunks.length === 1 ? (r.chunks[0] as Uint8Array) : concatBytes(r.chunks);
      } finally {
        c.close(fd);
      }
    },

    readlink(path) {
      const n = c.readlink(cstr(path), scratch, scratch.length);
      return n < 0 ? null : utf8.decode(scratch.subarray(0, n));
    },

    readStdinNow(limit) {
      // A pipe, a file or a terminal: a second descriptor opened non-blocking, so fd 0's own
      // flags (shared with whoever else holds it) stay as they are.
      const fd = c.open(cstr("/proc/self/fd/0"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      let r: ReturnType<typeof readFd>;
      if (fd >= 0) {
        try {
          r = readFd(fd, limit);
        } finally {
          c.close(fd);
        }
      } else {
        // A socket cannot be opened that way (ENXIO), and it is what Node's and Bun's
        // child_process give a child's stdin — Claude Code's hooks included: recv(MSG_DONTWAIT).
        r = readFd(0, limit, true);
        if (r.failed && errno() !== EAGAIN) return undefined; // not a socket either
      }
      return r.over ? null : { chunks: r.chunks, eof: r.eof };
    },

    checkSocket(path) {
      const nr = SYS_STATX[process.arch];
      if (nr === undefined) return "no-socket";
      const st = new Uint8Array(256); // struct statx, the same layout on every architecture
      if (c.syscall(nr, AT_FDCWD, cstr(path), 0, STATX_TYPE | STATX_UID, st) !== 0) return "no-socket";
      const view = new DataView(st.buffer);
      const uid = view.getUint32(20, true);
      const mode = view.getUint16(28, true);
      if ((mode & S_IFMT) !== S_IFSOCK) return "no-socket";
      const me = process.getuid?.();
      return me !== undefined && uid !== me ? "foreign-socket" : "ok";
    },

    send(path, payload, deadline) {
      const name = encoder.encode(path);
      if (name.length > SUN_PATH_MAX) return "connect-failed";
      const addr = new Uint8Array(2 + SUN_PATH_MAX + 1); // sockaddr_un: family, then the path
      addr[0] = AF_UNIX; // little-endian u16 on x64 and arm64
      addr.set(name, 2);
      const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return "connect-failed";
      try {
        // A non-blocking connect to a unix socket either completes at once or fails; EAGAIN means
        // the daemon's listen backlog is full: try again until the deadline.
        for (;;) {
          if (c.connect(fd, addr, 2 + name.length + 1) === 0) break;
          const e = errno();
          if (e === EISCONN) break; // an interrupted connect that completed meanwhile
          if (e !== EAGAIN && e !== EINTR) return "connect-failed";
          if (performance.now() >= deadline) return "timeout";
          sleepMs(1);
        }
        const pfd = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
        const pv = new DataView(pfd.buffer);
        pv.setInt32(0, fd, true);
        pv.setInt16(4, POLLOUT, true);
        let at = 0;
        while (at < payload.length) {
          const n = c.send(fd, payload.subarray(at), payload.length - at, MSG_NOSIGNAL);
          if (n > 0) {
            at += n;
            continue;
          }
          const e = errno();
          if (n < 0 && e !== EAGAIN && e !== EINTR) return "connect-failed";
          const left = deadline - performance.now();
          if (left <= 0) return "timeout";
          c.poll(pfd, 1, Math.ceil(left)); // the daemon is not reading yet: wait, bounded
        }
        return "sent";
      } finally {
        c.close(fd);
      }
    },
  };
}

let cached: Libc | null | undefined;

/**
 * The libc binding, or null where it is unavailable (not Linux x64/arm64, `ATM_HOOK_NO_FFI=1`, or
 * the library or a symbol could not be bound); callers then use node:fs and Bun's sockets.
 */
export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== "linux" || SYS_STATX[process.arch] === undefined) return null;
  if (process.env.ATM_HOOK_NO_FFI === "1") return null;
  try {
    cached = bind(dlopen("libc.so.6", SYMBOLS).symbols);
  } catch {
    cached = null;
  }
  return cached;
}
