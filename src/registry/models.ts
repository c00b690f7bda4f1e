// Model id → display name and default context window (SESSIONS.md §10.1, §10.2), and the
// SubagentStart agent_type mapping (§10.3). New Claude ids are named by a generic rule so a
// model released after this code still shows as e.g. `Opus 4.7` rather than its raw id.

const REFERENCE_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["claude-opus-4-6", "Opus 4.6"],
  ["claude-opus-4-5", "Opus 4.5"],
  ["claude-sonnet-4-5", "Sonnet 4.5"],
  ["claude-haiku-4-5", "Haiku 4.5"],
  ["claude-3-5-haiku", "Haiku 3.5"],
  ["claude-3-5-sonnet", "Sonnet 3.5 v2"],
];

/** Strips the `[1m]` suffix, a Vertex `@date` and a Bedrock `region.vendor.` prefix. */
export function normaliseModelId(id: string): string {
  let s = id.replace(/\[[^\]]*\]$/, "");
  const at = s.indexOf("@");
  if (at !== -1) s = s.slice(0, at);
  const c = s.indexOf("claude-");
  if (c > 0 && s.lastIndexOf(".", c) !== -1) s = s.slice(c);
  return s;
}

const FAMILY = /^[a-z]{2,}$/;
const VERSION = /^[0-9]{1,2}$/;

function family(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `claude-<family>-<maj>[-<min>]…` or `claude-<maj>[-<min>]-<family>…` → `Family maj[.min]`. */
function genericClaudeName(id: string): string | undefined {
  const p = id.split("-");
  if (p[0] !== "claude") return undefined;
  const [a = "", b = "", c = ""] = [p[1], p[2], p[3]];
  if (FAMILY.test(a) && VERSION.test(b)) {
    return VERSION.test(c) ? `${family(a)} ${b}.${c}` : `${family(a)} ${b}`;
  }
  if (VERSION.test(a)) {
    if (FAMILY.test(b)) return `${family(b)} ${a}`;
    if (VERSION.test(b) && FAMILY.test(c)) return `${family(c)} ${a}.${b}`;
  }
  return undefined;
}

/** The `model` of a SessionView, from the last status line's `model.id` / `display_name`. */
export function modelDisplayName(id: string | undefined, displayName: string | undefined): string {
  if (id === undefined || id === "") return "Unknown";
  const norm = normaliseModelId(id);
  if (norm.startsWith("claude-")) {
    for (const [prefix, name] of REFERENCE_PREFIXES) if (norm.startsWith(prefix)) return name;
    const generic = genericClaudeName(norm);
    if (generic !== undefined) return generic;
  }
  if (displayName !== undefined) return displayName;
  const base = norm === "" ? id : norm;
  // Date suffixes are 9 ASCII units, so a length in units above 9 means more than 9 code points.
  if (base.length > 9 && /-[0-9]{8}$/.test(base)) return base.slice(0, -9);
  return base;
}

/** 1,000,000 for `…[1m]` ids (any case), else 200,000 — also when no model is known. */
export function defaultContextWindow(id: string | undefined): number {
  return id !== undefined && id.toLowerCase().endsWith("[1m]") ? 1_000_000 : 200_000;
}

const AGENT_TYPES: Readonly<Record<string, string>> = {
  "general-purpose": "main",
  general_purpose: "main",
  explore: "explore",
  explorer: "explore",
  plan: "plan",
  planner: "plan",
  "code-reviewer": "review",
  code_reviewer: "review",
  codereview: "review",
  "file-search": "search",
  file_search: "search",
  filesearch: "search",
};

/** SubagentStart `agent_type` → SessionView `agent_type`; unknown names verbatim. */
export function mapAgentType(input: string | undefined): string {
  if (input === undefined) return "main";
  const key = input.toLowerCase();
  return Object.hasOwn(AGENT_TYPES, key) ? (AGENT_TYPES[key] as string) : input;
}
