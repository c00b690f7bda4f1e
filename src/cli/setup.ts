// `atmd setup` and `atmd uninstall` (DAEMON.md §12): the file side — locate, parse, back up, write
// atomically, stash — around the pure plans of integration/settings.ts.
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  constants,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { unifiedDiff } from "../integration/diff.ts";
import { isSelf, LAUNCHER_HEAD, launcherPath, namesFile, settingsCommandPath } from "../integration/self.ts";
import {
  type Context,
  type Json,
  type Outcome,
  type Stash,
  isObject,
  jsonEqual,
  ownFirstWords,
  planSetup,
  parsePreservingNumbers,
  planUninstall,
  quoteWord,
  serialiseJson,
} from "../integration/settings.ts";
import { formatTimestamp } from "../protocol/timestamp.ts";
import { configDir, homeDir } from "../system/paths.ts";
import { EXIT_FAILURE, EXIT_OK, parseArgs } from "./usage.ts";
import { errorMessage } from "../system/error-text.ts";

type Env = Record<string, string | undefined>;

/** `$CLAUDE_CONFIG_DIR/settings.json` when set and non-empty, else `~/.claude/settings.json`. */
export function settingsPath(env: Env = process.env): string {
  const d = env.CLAUDE_CONFIG_DIR;
  return join(d !== undefined && d !== "" ? d : join(homeDir(env), ".claude"), "settings.json");
}

export function stashPath(env: Env = process.env): string {
  return join(configDir(env), "statusline.json");
}

/** `YYYYMMDDTHHMMSSZ` (§12.5 step 5). */
function backupStamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replaceAll("-", "").replaceAll(":", "");
}

function errno(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== undefined ? `${code}: ${e.message.replace(/^\w+: /, "")}` : e.message;
  }
  return String(e);
}

interface Loaded {
  /** The file actually edited (a symlink's target). */
  target: string;
  exists: boolean;
  text: string;
  mode: number;
  /** Owner of the existing file, kept when root edits another user's settings. */
  uid?: number;
  gid?: number;
  value: Json;
}

/**
 * The file a settings symlink points at, following a chain of links by hand so that a dangling
 * link (target not created yet) still yields its target: that file is edited, the link stays.
 */
function linkTarget(path: string): string {
  let p = path;
  for (let i = 0; i < 40; i++) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return p; // dangling: this is where the file will be
    }
    if (!st.isSymbolicLink()) return realpathSync(p);
    const next = readlinkSync(p);
    p = isAbsolute(next) ? next : resolve(dirname(p), next);
  }
  return realpathSync(path); // a loop: let the error surface from the fs
}

/** Reads and parses the settings file, or returns the error lines (§12.5 steps 1-3). */
function loadSettings(path: string, command: string): Loaded | string[] {
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) target = linkTarget(path);
  } catch {
    // missing: treated as {} below
  }
  let text: string;
  let mode = 0o600;
  let owner: { uid: number; gid: number };
  try {
    const st = statSync(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
    text = readFileSync(target, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      return { target, exists: false, text: "", mode, value: {} };
    }
    return [`atmd: cannot read ${path}: ${errno(e)}`];
  }
  let value: unknown;
  try {
    value = parsePreservingNumbers(text);
  } catch (e) {
    return parseError(path, command, errorMessage(e));
  }
  if (!isObject(value)) {
    return parseError(path, command, "the top level is not a JSON object");
  }
  return { target, exists: true, text, mode, ...owner, value };
}

function parseError(path: string, command: string, reason: string): string[] {
  return [
    `atmd: cannot parse ${path}: ${reason}`,
    `Fix the file or move it away, then run 'atmd ${command}' again.`,
  ];
}

function readStash(path: string): { stash: Stash | null; exists: boolean; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { stash: null, exists: false, text: "" };
  }
  try {
    const v: unknown = parsePreservingNumbers(text);
    if (isObject(v)) {
      return {
        stash: { previous: v.previous ?? null, saved_at: typeof v.saved_at === "string" ? v.saved_at : "" },
        exists: true,
        text,
      };
    }
  } catch {
    // an unreadable stash is treated as "no previous status line"
  }
  return { stash: null, exists: true, text };
}


/** Creates missing directories with mode 0700; existing ones are left alone (§3). */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Writes `text` to a temporary file next to `target` and renames it over (§12.5 step 6). */
function atomicWrite(target: string, text: string, mode: number, owner?: { uid?: number; gid?: number }): void {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.atmd-${process.pid}-${Date.now()}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw e;
  }
  closeSync(fd);
  try {
    chmodSync(tmp, mode); // the umask must not change the kept mode
    // Root editing someone else's settings (sudo with their HOME) must not leave them root-owned.
    if (owner?.uid !== undefined && owner.gid !== undefined && process.getuid?.() === 0) {
      chownSync(tmp, owner.uid, owner.gid);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw e;
  }
}

/** Byte-for-byte copy to `<settings>.atm-backup-<stamp>[-N]`, same mode (§12.5 step 5). */
function backup(path: string, target: string, mode: number, now: Date): string {
  const base = `${path}.atm-backup-${backupStamp(now)}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (existsSync(name)) continue;
    copyFileSync(target, name, constants.COPYFILE_EXCL);
    chmodSync(name, mode);
    return name;
  }
}

async function run(command: "setup" | "uninstall", args: string[]): Promise<number> {
  const parsed = parseArgs(command, args, { flags: ["--dry-run"] });
  if (typeof parsed === "number") return parsed;
  const dryRun = parsed.flags.has("--dry-run");
  const path = settingsPath();
  const stashFile = stashPath();
  const now = new Date();

  const loaded = loadSettings(path, command);
  if (Array.isArray(loaded)) {
    process.stderr.write(`${loaded.join("\n")}\n`);
    return EXIT_FAILURE;
  }
  const current = readStash(stashFile);
  const self = settingsCommandPath(dirname(stashFile));
  // This atmd: the running executable, or (from source) the launcher that runs it.
  const isHere = (word: string): boolean => isSelf(word) || namesFile(word, self.path);
  const launcher = launcherPath(dirname(stashFile));
  // Uninstall takes the launcher away only when this file's entries ran it (other Claude Code
  // profiles may still use it otherwise).
  const ranLauncher = ownFirstWords(loaded.value, isHere).some((w) => namesFile(w, launcher));
  const ctx: Context = {
    atmd: quoteWord(self.path),
    isSelf: isHere,
    settingsPath: path,
    savedAt: formatTimestamp(now.getTime()),
  };
  const plan: Outcome =
    command === "setup"
      ? planSetup(loaded.value, current.stash, ctx)
      : planUninstall(loaded.value, current.stash, current.exists, ctx);
  if (!plan.ok) {
    process.stderr.write(`${plan.error}\n`);
    return EXIT_FAILURE;
  }
  // §12.3 keeps existing atmd entries even when they run another atmd (an older install, a moved
  // binary, the launcher of a source checkout): say so, and how to switch them to this one.
  const elsewhere = command === "setup" ? ownFirstWords(plan.settings, isHere).filter((w) => !isHere(w)) : [];
  // From source the launcher is rewritten by setup, so the advice names what runs this atmd.
  const me = self.launcher === undefined ? ctx.atmd : `${quoteWord(process.execPath)} ${quoteWord(resolve(Bun.main))}`;
  const elsewhereNote =
    elsewhere.length === 0
      ? []
      : [
          `Note: atmd entries already in ${path} run ${elsewhere.map(describeExecutable).join(", ")}, not ${self.path}; setup keeps them.`,
          `To switch them to this atmd, run: ${me} uninstall && ${me} setup`,
        ];

  // Judged on the JSON values, not on the file's formatting (§12.5 step 4).
  const settingsChanged = !jsonEqual(loaded.value, plan.settings);
  const newText = serialiseJson(plan.settings);
  const newStashText =
    plan.stash.kind === "write" ? serialiseJson(plan.stash.stash) : plan.stash.kind === "delete" ? "" : current.text;

  // From source, setup points Claude Code at a launcher script; keep it present and current even
  // when the settings need no change, and take it away again on uninstall.
  const launcherNeeded = command === "setup" && self.launcher !== undefined && readText(self.launcher.path) !== self.launcher.text;

  if (dryRun) {
    const label = `(after atmd ${command})`;
    const out: string[] = [];
    if (settingsChanged) out.push(unifiedDiff(loaded.text, newText, path, `${path} ${label}`));
    else out.push("No changes.\n");
    if (plan.stash.kind !== "keep" && newStashText !== current.text) {
      out.push(unifiedDiff(current.text, newStashText, stashFile, `${stashFile} ${label}`));
    }
    process.stdout.write(out.join(""));
    const notes = [...elsewhereNote];
    if (launcherNeeded && self.launcher !== undefined) {
      notes.push(`Would write the launcher ${self.launcher.path} (runs ${process.execPath} ${Bun.main}).`);
    }
    if (notes.length > 0) process.stderr.write(`${notes.join("\n")}\n`);
    return EXIT_OK;
  }

  if (!plan.changed) {
    if (launcherNeeded && self.launcher !== undefined) {
      const err = writeLauncher(self.launcher);
      if (err !== null) return fail(err);
      process.stdout.write(`Wrote the launcher ${self.launcher.path} the settings point at.\n`);
    }
    process.stdout.write(
      command === "setup"
        ? `atmd is already set up in ${path}; nothing to change.\n`
        : `atmd is not installed in ${path}; nothing to change.\n`,
    );
    if (elsewhereNote.length > 0) process.stdout.write(`${elsewhereNote.join("\n")}\n`);
    return EXIT_OK;
  }

  const lines: string[] = [];
  // The stash goes first: if the settings were rewritten and the stash then failed, the user's
  // previous status line would exist only in the backup. If the settings write fails, the stash
  // is put back as it was.
  try {
    if (plan.stash.kind === "write") {
      ensureDir(dirname(stashFile));
      atomicWrite(stashFile, newStashText, 0o600);
    } else if (plan.stash.kind === "delete") {
      unlinkSync(stashFile);
    }
  } catch (e) {
    return fail(`atmd: cannot write ${stashFile}: ${errno(e)}`);
  }
  const restoreStash = (): void => {
    try {
      if (current.exists) atomicWrite(stashFile, current.text, 0o600);
      else if (plan.stash.kind === "write") unlinkSync(stashFile);
    } catch {
      // best effort: the error about the settings file is what the user needs to see
    }
  };
  try {
    if (settingsChanged) {
      if (loaded.exists) {
        // A read-only settings file is the user's decision: do not replace it behind their back.
        accessSync(loaded.target, constants.W_OK);
        const b = backup(path, loaded.target, loaded.mode, now);
        lines.push(`Backed up ${path} to ${b}`);
      } else {
        ensureDir(dirname(loaded.target));
      }
      atomicWrite(loaded.target, newText, loaded.mode, loaded);
    }
  } catch (e) {
    restoreStash();
    return fail(`atmd: cannot write ${path}: ${errno(e)}`);
  }
  if (launcherNeeded && self.launcher !== undefined) {
    const err = writeLauncher(self.launcher);
    if (err !== null) return fail(err);
    lines.push(`Running from source: the hooks run ${self.launcher.path}, which starts ${process.execPath} ${Bun.main}.`);
    lines.push("For fast hooks, install the compiled binary (npm run compile) and run its 'uninstall', then its 'setup'.");
  }
  if (command === "uninstall" && ranLauncher && removeLauncher(launcher)) lines.push(`Removed the launcher ${launcher}.`);
  lines.push(...plan.summary, ...elsewhereNote);
  if (plan.summary.length === 0 && plan.stash.kind === "delete") lines.push(`Removed the leftover status-line stash ${stashFile}.`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return EXIT_FAILURE;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** A command word as shown in setup's note: `(missing)` after a path that does not exist. */
function describeExecutable(word: string): string {
  const p = word.startsWith("~/") ? join(homeDir(), word.slice(2)) : word;
  return p.includes("/") && !existsSync(p) ? `${word} (missing)` : word;
}

/**
 * Uninstall, when the file's entries ran the launcher setup writes from source: it goes (whichever
 * atmd runs uninstall), with its directory when that is left empty. Never a file setup did not
 * write. True when it was removed.
 */
function removeLauncher(path: string): boolean {
  if (!(readText(path) ?? "").startsWith(LAUNCHER_HEAD)) return false;
  try {
    unlinkSync(path);
  } catch {
    return false;
  }
  try {
    rmdirSync(dirname(path));
  } catch {
    // the directory holds something else
  }
  return true;
}

/** Writes the from-source launcher (see settingsCommandPath); the error message, or null. */
function writeLauncher(l: { path: string; text: string }): string | null {
  try {
    ensureDir(dirname(l.path));
    atomicWrite(l.path, l.text, 0o700);
    return null;
  } catch (e) {
    return `atmd: cannot write ${l.path}: ${errno(e)}`;
  }
}

export function runSetup(args: string[]): Promise<number> {
  return run("setup", args);
}

export function runUninstall(args: string[]): Promise<number> {
  return run("uninstall", args);
}
