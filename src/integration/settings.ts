// What `atmd setup` / `atmd uninstall` do to Claude Code's settings (DAEMON.md §12), as pure
// functions: old settings value + old stash + context → new settings value + stash action +
// summary. No file system access here (the "is this the running executable" test is injected).
import { HOOK_EVENTS, MATCHER_EVENTS } from "../protocol/claude.ts";
import { isObject as isJsonObject, type Json } from "../protocol/json.ts";

export type { Json };

/** A JSON object that is not one of the raw numbers parsePreservingNumbers keeps. */
export function isObject(v: unknown): v is Json {
  return isJsonObject(v) && !isRawNumber(v);
}

interface RawJsonApi {
  rawJSON(text: string): object;
  isRawJSON(v: unknown): boolean;
}
const RAW = JSON as unknown as Partial<RawJsonApi>;

function isRawNumber(v: unknown): boolean {
  return RAW.isRawJSON?.(v) === true;
}

/**
 * Object keys that JavaScript would move to the front of their object (canonical integers such
 * as "10") are read with this prefix, so they keep their place; `serialiseJson` takes it off.
 * Keys that already start with it get it twice, so nothing a file holds is changed.
 */
const KEY_MARK = "\u0000atmd-key:";
const INTEGER_KEY = /^(?:0|[1-9][0-9]*)$/;

/** `text` (valid JSON) with every such key token replaced by its marked form. */
function markOrderedKeys(text: string): string {
  let out = "";
  let copied = 0;
  for (let i = text.indexOf('"'); i !== -1; ) {
    let j = i + 1; // the string token is text[i..j]
    for (; j < text.length && text[j] !== '"'; j++) if (text[j] === "\\") j++;
    let k = j + 1;
    while (text[k] === " " || text[k] === "\t" || text[k] === "\n" || text[k] === "\r") k++;
    if (text[k] === ":") {
      const key = JSON.parse(text.slice(i, j + 1)) as string;
      if (INTEGER_KEY.test(key) || key.startsWith(KEY_MARK)) {
        out += text.slice(copied, i) + JSON.stringify(KEY_MARK + key);
        copied = j + 1;
      }
    }
    i = text.indexOf('"', j + 1);
  }
  return out + text.slice(copied);
}

/**
 * JSON.parse that keeps a settings file's values and order exactly: every number a double would
 * change (12345678901234567890, 1.0, -0, 1e2) comes back as a raw JSON value, which JSON.stringify
 * writes out verbatim, and integer-like keys stay where they were (see KEY_MARK). So rewriting a
 * user's settings never alters a value or moves a key (DAEMON.md §12.5). Errors are JSON.parse's
 * own, for the text as written.
 */
export function parsePreservingNumbers(text: string): unknown {
  JSON.parse(text); // validates: a syntax error names the user's text, not the marked one
  const marked = markOrderedKeys(text);
  const rawJSON = RAW.rawJSON;
  if (rawJSON === undefined) return JSON.parse(marked);
  return JSON.parse(marked, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && context?.source !== undefined && JSON.stringify(value) !== context.source) {
      return rawJSON(context.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}

/** 2-space JSON and a final newline (§12.5 step 6), with the key marks of the parse taken off. */
export function serialiseJson(v: unknown): string {
  return `${JSON.stringify(v, null, 2).replace(/"\\u0000atmd-key:((?:[^"\\]|\\.)*)":/g, '"$1":')}\n`;
}

// The events setup installs are the ones the daemon understands (DAEMON.md §12.1): one list.
export { HOOK_EVENTS, MATCHER_EVENTS };

/** Hook handler timeout in seconds (a safety net only, DAEMON.md §12.2). */
export const HOOK_TIMEOUT = 5;

/** Quotes a path for a command string: single quotes unless only `[A-Za-z0-9_./+:-]` (§12.1). */
export function quoteWord(p: string): string {
  if (p !== "" && /^[A-Za-z0-9_./+:-]+$/.test(p)) return p;
  return `'${p.replaceAll("'", `'\\''`)}'`;
}

/**
 * Splits a command into POSIX shell words (quotes and backslashes; no expansion). Null when the
 * quoting is unbalanced. Enough to recognise `<path> hook` / `<path> statusline`.
 */
export function splitShellWords(cmd: string): string[] | null {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i] as string;
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) return null;
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < cmd.length && cmd[i] !== '"'; i++) {
        if (cmd[i] === "\\" && i + 1 < cmd.length && '$`"\\\n'.includes(cmd[i + 1] as string)) i++;
        cur += cmd[i];
      }
      if (i >= cmd.length) return null;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 < cmd.length) {
        if (cmd[i + 1] !== "\n") cur += cmd[i + 1];
        i++;
      }
      inWord = true;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * atmd's own handler / status line (§12.1): exactly two shell words, the second `sub`, the first
 * resolving to the running executable (`isSelf`) or with a last path component starting `atmd`.
 */
export function isOwnCommand(
  command: unknown,
  sub: "hook" | "statusline",
  isSelf: (word: string) => boolean,
): boolean {
  if (typeof command !== "string") return false;
  const w = splitShellWords(command);
  if (w === null || w.length !== 2 || w[1] !== sub) return false;
  const first = w[0] as string;
  return first.slice(first.lastIndexOf("/") + 1).startsWith("atmd") || isSelf(first);
}

/**
 * The executables atmd's own entries run (the first shell word of every own hook handler and of
 * an own status line), each once, in the order found.
 */
export function ownFirstWords(settings: Json, isSelf: (word: string) => boolean): string[] {
  const words: string[] = [];
  const note = (command: unknown, sub: "hook" | "statusline"): void => {
    if (!isOwnCommand(command, sub, isSelf)) return;
    const first = (splitShellWords(command as string) as string[])[0] as string;
    if (!words.includes(first)) words.push(first);
  };
  if (isObject(settings.hooks)) {
    for (const arr of Object.values(settings.hooks)) {
      if (!Array.isArray(arr)) continue;
      for (const entry of arr) {
        if (!isObject(entry) || !Array.isArray(entry.hooks)) continue;
        for (const h of entry.hooks) if (isObject(h)) note(h.command, "hook");
      }
    }
  }
  if (isObject(settings.statusLine)) note(settings.statusLine.command, "statusline");
  return words;
}

/** The reference script's handler: its command contains `atm-hook` (§12.1). */
export function isReferenceCommand(command: unknown): boolean {
  return typeof command === "string" && command.includes("atm-hook");
}

export interface Stash {
  previous: unknown;
  saved_at: string;
}

export type StashAction = { kind: "keep" } | { kind: "write"; stash: Stash } | { kind: "delete" };

export interface Context {
  /** Absolute path of atmd, already quoted for the shell (§12.1). */
  atmd: string;
  isSelf: (word: string) => boolean;
  /** The settings path as shown in messages. */
  settingsPath: string;
  /** saved_at of a new stash (SESSIONS.md §8 format). */
  savedAt: string;
}

export type Outcome =
  | { ok: false; error: string }
  | { ok: true; settings: Json; stash: StashAction; changed: boolean; summary: string[] };

/** Structural JSON equality, key order ignored (changes are judged on values, §12.5 step 4). */
/** A deep copy of parsed JSON; raw numbers (immutable) are shared, not cloned. */
function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => cloneJson(x)) as T;
  if (isObject(v)) {
    const out: Json = {};
    // defineProperty: a "__proto__" key in the file must stay a plain key, not set a prototype.
    for (const [k, x] of Object.entries(v)) {
      Object.defineProperty(out, k, { value: cloneJson(x), enumerable: true, writable: true, configurable: true });
    }
    return out as T;
  }
  return v;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isRawNumber(a) || isRawNumber(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function unexpected(at: string, ctx: Context): Outcome {
  return { ok: false, error: `atmd: unexpected content at ${at} in ${ctx.settingsPath}; not modified.` };
}

function describeCommand(v: unknown): string | null {
  return isObject(v) && v.type === "command" && typeof v.command === "string" ? v.command : null;
}

/** §12.3 + §12.4. `old` is the parsed settings object; `stash` the current stash file, if any. */
export function planSetup(old: Json, stash: Stash | null, ctx: Context): Outcome {
  const next = cloneJson(old);
  const hookCmd = `${ctx.atmd} hook`;
  const slCmd = `${ctx.atmd} statusline`;

  let hooks: Json;
  if (next.hooks === undefined) hooks = {};
  else if (isObject(next.hooks)) hooks = next.hooks;
  else return unexpected("hooks", ctx);

  // Validate every event first: nothing is written unless the whole plan works.
  for (const ev of HOOK_EVENTS) {
    const arr = hooks[ev];
    if (arr === undefined) continue;
    if (!Array.isArray(arr)) return unexpected(`hooks.${ev}`, ctx);
    for (const entry of arr) {
      if (!isObject(entry) || !Array.isArray(entry.hooks)) return unexpected(`hooks.${ev}`, ctx);
    }
  }

  let installed = 0;
  let replaced = 0;
  for (const ev of HOOK_EVENTS) {
    const arr = (hooks[ev] ?? []) as Json[];
    const present = arr.some((e) =>
      (e.hooks as unknown[]).some((h) => isObject(h) && isOwnCommand(h.command, "hook", ctx.isSelf)),
    );
    if (present) continue;
    let removed = false;
    const kept: Json[] = [];
    for (const entry of arr) {
      const hs = entry.hooks as unknown[];
      const left = hs.filter((h) => !(isObject(h) && isReferenceCommand(h.command)));
      if (left.length === hs.length) {
        kept.push(entry);
        continue;
      }
      removed = true;
      if (left.length > 0) kept.push({ ...entry, hooks: left });
    }
    const handler = { type: "command", command: hookCmd, timeout: HOOK_TIMEOUT };
    const added: Json = (MATCHER_EVENTS as readonly string[]).includes(ev)
      ? { matcher: "*", hooks: [handler] }
      : { hooks: [handler] };
    kept.push(added);
    hooks[ev] = kept;
    installed++;
    if (removed) replaced++;
  }
  if (installed > 0) next.hooks = hooks;

  const summary: string[] = [];
  if (installed > 0) {
    summary.push(
      `Installed the atmd hook for ${installed} event${installed === 1 ? "" : "s"}` +
        (replaced > 0 ? ` (replaced atm-hook in ${replaced}).` : "."),
    );
  } else {
    summary.push(`The atmd hook is already installed for all ${HOOK_EVENTS.length} events.`);
  }

  // §12.4
  const sl = next.statusLine;
  let stashAction: StashAction = { kind: "keep" };
  const makeLine = (keepFrom: unknown): Json => {
    const line: Json = { type: "command", command: slCmd };
    if (isObject(keepFrom)) {
      for (const k of Object.keys(keepFrom)) if (k !== "type" && k !== "command") line[k] = keepFrom[k];
    }
    return line;
  };
  if (sl === undefined || sl === null) {
    next.statusLine = makeLine(null);
    stashAction = { kind: "write", stash: { previous: null, saved_at: ctx.savedAt } };
    summary.push("Status line: now 'atmd statusline' (there was none before; it shows atmd's built-in line).");
  } else if (isObject(sl) && isOwnCommand(sl.command, "statusline", ctx.isSelf)) {
    summary.push("Status line: already 'atmd statusline'.");
  } else if (isObject(sl) && isReferenceCommand(sl.command)) {
    next.statusLine = makeLine(sl);
    stashAction = { kind: "write", stash: { previous: null, saved_at: ctx.savedAt } };
    summary.push("Status line: now 'atmd statusline' instead of atm-hook (which printed nothing).");
  } else {
    next.statusLine = makeLine(sl);
    stashAction = { kind: "write", stash: { previous: sl, saved_at: ctx.savedAt } };
    const prev = describeCommand(sl);
    summary.push(
      prev !== null
        ? `Status line: now 'atmd statusline'; your previous command '${prev}' still runs through it.`
        : "Status line: now 'atmd statusline'; your previous status line is kept and restored by 'atmd uninstall'.",
    );
  }
  // A stash identical to the current one is no change (only saved_at would differ).
  if (stashAction.kind === "write" && stash !== null && jsonEqual(stash.previous, stashAction.stash.previous)) {
    stashAction = { kind: "keep" };
  }

  const changed = !jsonEqual(old, next) || stashAction.kind !== "keep";
  summary.push("New Claude Code sessions pick this up; restart running sessions to be sure.");
  if (next.disableAllHooks === true) {
    summary.push(
      `Note: "disableAllHooks" is true in ${ctx.settingsPath}; Claude Code runs neither hooks nor the status line.`,
    );
  }
  return { ok: true, settings: next, stash: stashAction, changed, summary };
}

/** §12.6. `stashExists` tells whether a stash file is present (it is deleted). */
export function planUninstall(old: Json, stash: Stash | null, stashExists: boolean, ctx: Context): Outcome {
  const next = cloneJson(old);
  const summary: string[] = [];
  let events = 0;
  if (next.hooks !== undefined) {
    if (!isObject(next.hooks)) return unexpected("hooks", ctx);
    const hooks = next.hooks;
    for (const ev of Object.keys(hooks)) {
      const arr = hooks[ev];
      if (!Array.isArray(arr)) continue;
      let removed = false;
      const kept: unknown[] = [];
      for (const entry of arr) {
        if (!isObject(entry) || !Array.isArray(entry.hooks)) {
          kept.push(entry);
          continue;
        }
        const hs = entry.hooks as unknown[];
        const left = hs.filter((h) => !(isObject(h) && isOwnCommand(h.command, "hook", ctx.isSelf)));
        if (left.length === hs.length) {
          kept.push(entry);
          continue;
        }
        removed = true;
        if (left.length > 0) kept.push({ ...entry, hooks: left });
      }
      if (!removed) continue;
      events++;
      if (kept.length > 0) hooks[ev] = kept;
      else delete hooks[ev];
    }
    if (events > 0 && Object.keys(hooks).length === 0) delete next.hooks;
  }
  if (events > 0) summary.push(`Removed the atmd hook from ${events} event${events === 1 ? "" : "s"}.`);

  const sl = next.statusLine;
  if (isObject(sl) && isOwnCommand(sl.command, "statusline", ctx.isSelf)) {
    const prev = stash?.previous;
    if (prev === undefined || prev === null) {
      delete next.statusLine;
      summary.push("Status line: removed (there was none before atmd).");
    } else {
      next.statusLine = prev;
      const cmd = describeCommand(prev);
      summary.push(cmd !== null ? `Status line: restored '${cmd}'.` : "Status line: restored your previous status line.");
    }
  } else if (stashExists && sl !== undefined) {
    summary.push("Status line: not atmd's (changed since setup); left as it is.");
  }
  const stashAction: StashAction = stashExists ? { kind: "delete" } : { kind: "keep" };
  const changed = !jsonEqual(old, next) || stashExists;
  return { ok: true, settings: next, stash: stashAction, changed, summary };
}
