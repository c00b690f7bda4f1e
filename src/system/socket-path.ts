// Inspecting the socket path before binding (PROTOCOL.md §2.2, DAEMON.md §4.3): never replace a
// file that is not a socket, never touch another user's socket, never unlink a live daemon's
// socket; only a socket that refuses connections is stale and removed.
import { lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { probeStats } from "../transport/client.ts";
import { errorCode } from "./error-text.ts";

export type PathCheck =
  | { kind: "ready" } // nothing there (any stale socket was removed)
  | { kind: "running"; pid: number } // an atmd answers and told us its pid
  | { kind: "busy" } // an atmd answers but is at its connection cap
  | { kind: "foreign" } // something answers, but not as atmd
  | { kind: "refused"; message: string }; // refuse to start with this message

export const MAX_SOCKET_PATH = process.platform === "darwin" ? 103 : 107;


/** Asks whatever listens at `path` for `stats`: its pid, `busy` (an atmd at its cap), or null. */
export async function askPid(path: string, timeoutMs: number): Promise<number | "busy" | null> {
  const r = await probeStats(path, { connectTimeoutMs: timeoutMs, replyTimeoutMs: timeoutMs, clientId: "atmd-probe" });
  return r.kind === "stats" ? r.pid : r.kind === "busy" ? "busy" : null;
}

export async function checkSocketPath(path: string): Promise<PathCheck> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH) {
    return { kind: "refused", message: `atmd: socket path too long (${bytes} bytes, max ${MAX_SOCKET_PATH}): ${path}` };
  }
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // A file where a directory should be: the parent directory cannot be created.
    if (code === "ENOTDIR") return { kind: "refused", message: `atmd: cannot create directory ${dirname(path)}: ${errorCode(e)}` };
    if (code !== "ENOENT") {
      return { kind: "refused", message: `atmd: cannot check ${path}: ${errorCode(e)}` };
    }
  }
  if (st === undefined) {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      return { kind: "refused", message: `atmd: cannot create directory ${dir}: ${errorCode(e)}` };
    }
    return { kind: "ready" };
  }
  if (!st.isSocket()) {
    return { kind: "refused", message: `atmd: ${path} exists and is not a socket; refusing to replace it` };
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    return { kind: "refused", message: `atmd: ${path} belongs to another user (uid ${st.uid}); refusing to use it` };
  }
  const probe = await probeConnect(path, 500);
  if (probe === "live") {
    const pid = await askPid(path, 1000);
    return pid === null ? { kind: "foreign" } : pid === "busy" ? { kind: "busy" } : { kind: "running", pid };
  }
  if (probe !== "refused") return { kind: "refused", message: `atmd: cannot check ${path}: ${probe}` };
  try {
    unlinkSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // A file where a directory should be: the parent directory cannot be created.
    if (code === "ENOTDIR") return { kind: "refused", message: `atmd: cannot create directory ${dirname(path)}: ${errorCode(e)}` };
    if (code !== "ENOENT") {
      return { kind: "refused", message: `atmd: cannot check ${path}: ${errorCode(e)}` };
    }
  }
  return { kind: "ready" };
}

/** `live` if a connect succeeds within `ms`, `refused` on ECONNREFUSED, else the error. */
async function probeConnect(path: string, ms: number): Promise<"live" | "refused" | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const socket = await Promise.race([
      Bun.connect({ unix: path, socket: { data() {} } }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), ms);
      }),
    ]);
    socket.end();
    return "live";
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED") return "refused";
    // A connect that hangs means a live but busy listener (full backlog): never unlink it.
    if (code === "ETIMEDOUT") return "live";
    return errorCode(e);
  } finally {
    clearTimeout(timer);
  }
}
