// A handful of libc calls through bun:ffi, for `atmd hook` and `atmd statusline` (DAEMON.md §10.1).
// Measured in compiled programs against an empty one: loading node:fs costs ~1.4 ms of start-up;
// Bun's own async file reads and sockets start a thread pool or an event-loop turn (~0.5-0.6 ms
// for the first use); binding these ten symbols costs ~0.2 ms, and every call after that is a
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
const O_NOCTTY = 0o400;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EPERM = 1;
const EINTR = 4;
const EAGAIN = 11;
const EISCONN = 106;
const ENOSYS = 38;
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
  syscall: { args: [i64, i32, ptr, i32, u32, ptr], returns: i32 },
  __errno_location: { args: [], returns: ptr },
} as const;

type Symbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

/** `unsupported`: statx(2) is missing (kernel < 4.11) or filtered (seccomp); ask node:fs. */
export type SocketCheck = "ok" | "no-socket" | "foreign-socket" | "unsupported";
export type SendResult = "sent" | "connect-failed" | "timeout";

export interface Libc {
  /** The whole file (up to `max` bytes), or null when it cannot be opened or read. */
  readFile(path: string, max?: number): Uint8Array | null;
  /** The target of a symbolic link, or null. */
  readlink(path: string): string | null;
  /**
   * Whatever stdin holds right now, without blocking and stopping at `deadline` (performance.now()):
   * `eof` when it reached the end. Null when more than `limit` bytes arrived; `undefined` when
   * stdin cannot be read this way.
   */
  readStdinNow(limit: number, deadline?: number): { chunks: Uint8Array[]; eof: boolean } | null | undefined;
  /** DAEMON.md §10.2 step 6: exists, is a socket, belongs to the current user. */
  checkSocket(path: string): SocketCheck;
  /**
   * Connects, writes all of `payload`, closes; never past `deadline` (a performance.now() value).
   * Synchronous when the daemon takes it all at once (the usual case); when its listen backlog or
   * the socket buffer is full, it waits on the event loop, so the caller's timers keep running.
   */
  send(path: string, payload: Uint8Array, deadline: number): SendResult | Promise<SendResult>;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

function cstr(s: string): Uint8Array {
  return encoder.encode(`${s}\0`);
}

interface ReadResult {
  chunks: Uint8Array[];
  eof: boolean;
  /** More than the limit arrived. */
  over: boolean;
  /** errno of the read that stopped it (EAGAIN: nothing more for now), 0 otherwise. */
  errno: number;
}

function bind(c: Symbols): Libc {
  const errnoPtr = c.__errno_location();
  const errno = (): number => (errnoPtr === null ? 0 : peek.i32(errnoPtr, 0));
  const scratch = new Uint8Array(65536);

  /** Reads until EOF, an error (EAGAIN included), more than `max` bytes, or the deadline. */
  function readFd(fd: number, max: number, socket = false, deadline = Infinity): ReadResult {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const n = socket ? c.recv(fd, scratch, scratch.length, MSG_DONTWAIT) : c.read(fd, scratch, scratch.length);
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        return { chunks, eof: false, over: false, errno: e };
      }
      if (n === 0) return { chunks, eof: true, over: false, errno: 0 };
      total += n;
      if (total > max) return { chunks, eof: false, over: true, errno: 0 };
      chunks.push(scratch.slice(0, n));
      // A sync loop holds the deadline timer off: stop here and let the caller's stream go on.
      if (performance.now() >= deadline) return { chunks, eof: false, over: false, errno: EAGAIN };
    }
  }

  /** connect(2) on a non-blocking unix socket: `0` done, `EAGAIN` backlog full, else failed. */
  function tryConnect(fd: number, addr: Uint8Array, len: number): number {
    for (;;) {
      if (c.connect(fd, addr, len) === 0) return 0;
      const e = errno();
      if (e === EISCONN) return 0; // an interrupted connect that completed meanwhile
      if (e !== EINTR) return e;
    }
  }

  /** send(2) from `at` on; the new offset, or -1 when the connection failed. */
  function trySend(fd: number, payload: Uint8Array, at: number): number {
    while (at < payload.length) {
      const n = c.send(fd, payload.subarray(at), payload.length - at, MSG_NOSIGNAL);
      if (n > 0) {
        at += n;
        continue;
      }
      const e = errno();
      if (n < 0 && e !== EAGAIN && e !== EINTR) return -1;
      if (n < 0 && e === EINTR) continue;
      break; // the daemon is not reading yet
    }
    return at;
  }

  /** The slow path of `send`: waits on the event loop, 1 ms at a time, until the deadline. */
  async function sendLater(
    fd: number,
    addr: Uint8Array,
    len: number,
    connected: boolean,
    payload: Uint8Array,
    at: number,
    deadline: number,
  ): Promise<SendResult> {
    try {
      while (!connected) {
        if (performance.now() >= deadline) return "timeout";
        await Bun.sleep(1);
        const e = tryConnect(fd, addr, len);
        if (e !== 0 && e !== EAGAIN) return "connect-failed";
        connected = e === 0;
      }
      for (;;) {
        at = trySend(fd, payload, at);
        if (at < 0) return "connect-failed";
        if (at === payload.length) return "sent";
        if (performance.now() >= deadline) return "timeout";
        await Bun.sleep(1);
      }
    } finally {
      c.close(fd);
    }
  }

  return {
    readFile(path, max = 16 * 1024 * 1024) {
      const fd = c.open(cstr(path), O_RDONLY | O_NOCTTY | O_CLOEXEC);
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

    readStdinNow(limit, deadline = Infinity) {
      // A pipe, a file or a terminal: a second descriptor opened non-blocking, so fd 0's own
      // flags (shared with whoever else holds it) stay as they are.
      const fd = c.open(cstr("/proc/self/fd/0"), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      let r: ReadResult;
      if (fd >= 0) {
        try {
          r = readFd(fd, limit, false, deadline);
        } finally {
          c.close(fd);
        }
      } else {
        // A socket cannot be opened that way (ENXIO), and it is what Node's and Bun's
        // child_process give a child's stdin — Claude Code's hooks included: recv(MSG_DONTWAIT).
        r = readFd(0, limit, true, deadline);
        if (r.chunks.length === 0 && r.errno !== 0 && r.errno !== EAGAIN) return undefined; // not a socket either
      }
      return r.over ? null : { chunks: r.chunks, eof: r.eof };
    },

    checkSocket(path) {
      const nr = SYS_STATX[process.arch];
      if (nr === undefined) return "unsupported";
      const st = new Uint8Array(256); // struct statx, the same layout on every architecture
      if (c.syscall(nr, AT_FDCWD, cstr(path), 0, STATX_TYPE | STATX_UID, st) !== 0) {
        const e = errno();
        return e === ENOSYS || e === EPERM ? "unsupported" : "no-socket";
      }
      const uid = st[20]! | (st[21]! << 8) | (st[22]! << 16) | (st[23]! << 24);
      const mode = st[28]! | (st[29]! << 8);
      if ((mode & S_IFMT) !== S_IFSOCK) return "no-socket";
      const me = process.getuid?.();
      return me !== undefined && uid >>> 0 !== me ? "foreign-socket" : "ok";
    },

    send(path, payload, deadline) {
      const name = encoder.encode(path);
      if (name.length > SUN_PATH_MAX) return "connect-failed";
      const addr = new Uint8Array(2 + SUN_PATH_MAX + 1); // sockaddr_un: family, then the path
      addr[0] = AF_UNIX; // little-endian u16 on x64 and arm64
      addr.set(name, 2);
      const len = 2 + name.length + 1;
      const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return "connect-failed";
      let handedOver = false;
      try {
        // A non-blocking connect to a unix socket completes at once, fails, or says EAGAIN: the
        // daemon's listen backlog is full (retried, on the event loop, until the deadline).
        const e = tryConnect(fd, addr, len);
        if (e !== 0 && e !== EAGAIN) return "connect-failed";
        const at = e === 0 ? trySend(fd, payload, 0) : 0;
        if (at < 0) return "connect-failed";
        if (at === payload.length) return "sent";
        handedOver = true;
        return sendLater(fd, addr, len, e === 0, payload, at, deadline);
      } finally {
        if (!handedOver) c.close(fd);
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
