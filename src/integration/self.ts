// Which executable is "this atmd" (DAEMON.md §12.1): the path written into settings and the test
// "does this command word resolve to the running executable".
import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** Running as the compiled single binary (its entry lives in Bun's embedded file system). */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(Bun.main);
}

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** Finds `name` on PATH like a shell does; the PATH entry joined with the name (links kept). */
export function searchPath(name: string, env: Record<string, string | undefined> = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const p = resolve(dir === "" ? "." : dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * The absolute path by which atmd was invoked (§12.1): argv[0] made absolute against the working
 * directory, or the PATH entry found for a bare name; symlinks are kept. When running from source
 * (`bun src/main.ts`), the entry script.
 */
export function invokedPath(): string {
  if (!isCompiled()) return Bun.main;
  const a0 = process.argv0;
  if (a0.includes("/")) return isAbsolute(a0) ? a0 : resolve(a0);
  return searchPath(a0) ?? process.execPath;
}

let selfReal: string[] | null = null;

/** A command word as a shell finds it: `~/` expanded, a bare name looked up on PATH; absolute. */
function locateWord(word: string): string | null {
  if (word.startsWith("~/")) return join(process.env.HOME ?? "", word.slice(2));
  if (!word.includes("/")) return searchPath(word);
  return resolve(word);
}

/** Does a command word resolve (symlinks followed, bare names via PATH) to this executable? */
export function isSelf(word: string): boolean {
  if (selfReal === null) {
    selfReal = [isCompiled() ? process.execPath : Bun.main]
      .map(realpathOrNull)
      .filter((p): p is string => p !== null);
  }
  const p = locateWord(word);
  const real = p === null ? null : realpathOrNull(p);
  return real !== null && selfReal.includes(real);
}

/**
 * Does a command word name the file at `path` (e.g. the launcher setup writes)? Symlinks are
 * followed when both exist; otherwise the absolute paths are compared.
 */
export function namesFile(word: string, path: string): boolean {
  const p = locateWord(word);
  if (p === null) return false;
  const a = realpathOrNull(p);
  const b = realpathOrNull(path);
  return a !== null && b !== null ? a === b : p === resolve(path);
}

/** Where setup puts the launcher, and how every launcher it writes begins. */
export function launcherPath(configDir: string): string {
  return join(configDir, "bin", "atmd");
}
export const LAUNCHER_HEAD = "#!/bin/sh\n# Written by 'atmd setup' run from source: runs atmd with the bun that ran setup.\n";

/** A launcher script setup writes when atmd runs from source (see `settingsCommandPath`). */
export interface Launcher {
  path: string;
  text: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The executable setup writes into Claude Code's settings. For a compiled atmd, the path it was
 * invoked by. From source (`bun src/main.ts setup`) the entry script is not executable by itself
 * and bun may not be on Claude Code's PATH, so setup writes a small launcher `<config>/bin/atmd`
 * (its name starts with `atmd`, so it counts as atmd's own) that execs this bun with this script.
 */
export function settingsCommandPath(configDir: string): { path: string; launcher?: Launcher } {
  if (isCompiled()) return { path: invokedPath() };
  const path = launcherPath(configDir);
  const text = `${LAUNCHER_HEAD}exec ${shellQuote(
    process.execPath,
  )} ${shellQuote(resolve(Bun.main))} "$@"\n`;
  return { path, launcher: { path, text } };
}
