// Git project root, worktree path and branch of a working directory (SESSIONS.md §11), read
// straight from `.git` entries without running git. The walk is written once as a generator of
// file-system questions so the same rules drive a synchronous and an asynchronous reader.
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync as readSyncFd, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";

export interface GitInfo {
  projectRoot?: string;
  worktreePath?: string;
  worktreeBranch?: string;
}

type Question = { op: "kind"; path: string } | { op: "read"; path: string };
type Kind = "dir" | "file" | "other";
type Answer = Kind | string | undefined;

/** Longer paths cannot name a file (PATH_MAX), so they are not even asked about. */
const MAX_PATH = 4095;

/**
 * The working directory itself, then each lexical parent: `.` components and trailing `/`
 * ignored, `..` kept; a relative path ends with "" (the daemon's own directory). Built from one
 * normalised string so a hostile megabyte-long path costs linear time.
 */
export function gitWalk(cwd: string): string[] {
  const out = [cwd];
  const abs = cwd.startsWith("/");
  const parts = cwd.split("/").filter((c) => c !== "" && c !== ".");
  const norm = (abs ? "/" : "") + parts.join("/");
  const ends: number[] = []; // end offset in `norm` of the path made of the first k+1 parts
  let pos = abs ? 1 : 0;
  for (const p of parts) {
    pos += p.length;
    ends.push(pos);
    pos += 1;
  }
  for (let k = parts.length - 2; k >= -1; k--) {
    const end = k >= 0 ? (ends[k] as number) : abs ? 1 : 0;
    if (end <= MAX_PATH) out.push(norm.slice(0, end));
  }
  return out;
}

function join(dir: string, name: string): string {
  if (dir === "") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** The parent of the nearest component named `.git` in `g`, or undefined when there is none. */
function parentOfDotGit(g: string): string | undefined {
  const abs = g.startsWith("/");
  const parts = g.split("/").filter((c) => c !== "" && c !== ".");
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i] === ".git") {
      const head = parts.slice(0, i).join("/");
      return abs ? `/${head}` : head;
    }
  }
  return undefined;
}

function branchFromHead(content: string): string {
  const t = content.trim();
  if (t.startsWith("ref: refs/heads/")) return t.slice("ref: refs/heads/".length);
  return Array.from(t.slice(0, 16)).slice(0, 8).join("");
}

function* resolveSteps(cwd: string): Generator<Question, GitInfo, Answer> {
  const info: GitInfo = {};
  let first = true;
  for (const d of gitWalk(cwd)) {
    const dotGit = join(d, ".git");
    const kind = dotGit.length > MAX_PATH ? "other" : ((yield { op: "kind", path: dotGit }) as Kind);
    if (kind === "other") {
      first = false;
      continue;
    }
    let gitdir: string | undefined; // G, resolved against D
    let plainFile = false; // a `.git` file that is not a `gitdir:` pointer (or unreadable)
    if (kind === "file") {
      const content = (yield { op: "read", path: dotGit }) as string | undefined;
      if (content !== undefined && content.startsWith("gitdir:")) {
        const g = content.slice("gitdir:".length).trim();
        gitdir = g.startsWith("/") ? g : join(d, g);
      } else {
        plainFile = true;
      }
    }
    info.projectRoot = gitdir === undefined ? d : (parentOfDotGit(gitdir) ?? d);
    if (first) {
      info.worktreePath = cwd;
      if (!plainFile) {
        const headPath = gitdir === undefined ? join(dotGit, "HEAD") : join(gitdir, "HEAD");
        const head = (yield { op: "read", path: headPath }) as string | undefined;
        if (head !== undefined) info.worktreeBranch = branchFromHead(head);
      }
    }
    return info;
  }
  return info;
}

/** `""` stands for the daemon's own directory, which the fs calls spell `.`. */
function fsPath(p: string): string {
  return p === "" ? "." : p;
}

function kindSync(path: string): Kind {
  try {
    const s = statSync(fsPath(path));
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch {
    return "other";
  }
}

/** `.git` files and HEAD are a few bytes; anything bigger is not what we look for. */
const MAX_READ = 64 * 1024;
const decoder = new TextDecoder();

/**
 * Reads a small regular file. Opened non-blocking and checked with fstat first, so a FIFO or a
 * device planted where HEAD should be (`mkfifo .git/HEAD`, a link to /dev/zero) can neither hang
 * the daemon nor make it read without end: it counts as unreadable.
 */
function readSync(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(fsPath(path), fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = new Uint8Array(MAX_READ);
    let n = 0;
    for (;;) {
      const r = readSyncFd(fd, buf, n, buf.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n === buf.length) return undefined;
    }
    return decoder.decode(buf.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

async function kindAsync(path: string): Promise<Kind> {
  try {
    const s = await stat(fsPath(path));
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch {
    return "other";
  }
}

async function readAsync(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(fsPath(path), fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined; // see readSync
    const buf = new Uint8Array(MAX_READ);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead <= 0) break;
      n += bytesRead;
      if (n === buf.length) return undefined;
    }
    return decoder.decode(buf.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Synchronous resolution: a handful of stat calls, for the message path. */
export function resolveGit(cwd: string): GitInfo {
  const it = resolveSteps(cwd);
  let r = it.next();
  while (!r.done) {
    const q = r.value;
    r = it.next(q.op === "kind" ? kindSync(q.path) : readSync(q.path));
  }
  return r.value;
}

/** Asynchronous resolution, for the 5 s refresh off the message path. */
export async function resolveGitAsync(cwd: string): Promise<GitInfo> {
  const it = resolveSteps(cwd);
  let r = it.next();
  while (!r.done) {
    const q = r.value;
    r = it.next(q.op === "kind" ? await kindAsync(q.path) : await readAsync(q.path));
  }
  return r.value;
}

export function sameGitInfo(a: GitInfo, b: GitInfo): boolean {
  return a.projectRoot === b.projectRoot && a.worktreePath === b.worktreePath && a.worktreeBranch === b.worktreeBranch;
}
