// One session's record (SESSIONS.md §2) and what a status line (§5.3, §5.4) or a recognised hook
// event (§6.3, §6.4) does to it. Keys, renames, moves and publishing belong to the Registry;
// this module only mutates a single record and reports whether git must be re-resolved.
import { HOOK_EVENTS, type HookData, type StatusLine } from "../protocol/claude.ts";
import type { GitInfo } from "../system/git.ts";
import { costMicros, firstCodePoints, formatTimestamp } from "./format.ts";

export type Status = "idle" | "working" | "attention_needed";

export interface Session {
  id: string;
  pid: number;
  pidVerified: boolean;
  startTime: number | undefined;
  agentType: string;
  modelId: string | undefined;
  modelDisplayName: string | undefined;
  status: Status;
  activity: string | undefined;
  totalInputTokens: number;
  totalOutputTokens: number;
  currentInputTokens: number;
  currentOutputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  contextWindowSize: number | undefined;
  costMicros: number;
  durationMs: number;
  apiDurationMs: number;
  linesAdded: number;
  linesRemoved: number;
  startedAt: number;
  startedAtText: string;
  lastActivity: number;
  lastActivityText: string;
  cwd: string | undefined;
  claudeCodeVersion: string | undefined;
  tmuxPane: string | undefined;
  git: GitInfo;
  parentSessionId: string | undefined;
  childSessionIds: string[];
  firstPrompt: string | undefined;
  hooksSeen: boolean;
}

export const FIRST_PROMPT_MAX = 500;

export function newSession(id: string, pid: number, now: number, verified: boolean, startTime: number | undefined): Session {
  const text = formatTimestamp(now);
  return {
    id, pid, pidVerified: verified, startTime,
    agentType: "main",
    modelId: undefined, modelDisplayName: undefined,
    status: "idle", activity: undefined,
    totalInputTokens: 0, totalOutputTokens: 0,
    currentInputTokens: 0, currentOutputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0,
    contextWindowSize: undefined,
    costMicros: 0, durationMs: 0, apiDurationMs: 0, linesAdded: 0, linesRemoved: 0,
    startedAt: now, startedAtText: text, lastActivity: now, lastActivityText: text,
    cwd: undefined, claudeCodeVersion: undefined, tmuxPane: undefined, git: {},
    parentSessionId: undefined, childSessionIds: [], firstPrompt: undefined, hooksSeen: false,
  };
}

/** `last_activity` = now, except that it never moves backwards when the wall clock does (§8). */
export function touch(s: Session, now: number): void {
  if (now > s.lastActivity) {
    s.lastActivity = now;
    s.lastActivityText = formatTimestamp(now);
  }
}

/**
 * Applies a status line (§5.3). Absent groups leave their values alone; `created` skips the
 * status effect of §5.4 (a session created by a status line starts idle).
 * Returns true when git information must be re-resolved.
 */
export function applyStatusLine(s: Session, line: StatusLine, now: number, created: boolean): boolean {
  touch(s, now);
  if (line.model !== undefined) {
    s.modelId = line.model.id;
    s.modelDisplayName = line.model.displayName;
  }
  const cost = line.cost;
  if (cost !== undefined) {
    s.costMicros = costMicros(cost.totalCostUsd);
    s.durationMs = cost.totalDurationMs;
    s.apiDurationMs = cost.totalApiDurationMs;
    s.linesAdded = cost.linesAdded;
    s.linesRemoved = cost.linesRemoved;
  }
  const w = line.contextWindow;
  if (w !== undefined) {
    s.totalInputTokens = w.totalInputTokens;
    s.totalOutputTokens = w.totalOutputTokens;
    s.currentInputTokens = w.inputTokens;
    s.currentOutputTokens = w.outputTokens;
    s.cacheCreationTokens = w.cacheCreationTokens;
    s.cacheReadTokens = w.cacheReadTokens;
    if (w.contextWindowSize !== undefined) s.contextWindowSize = w.contextWindowSize;
  }
  if (line.version !== undefined) s.claudeCodeVersion = line.version;
  if (line.tmuxPane !== undefined && s.tmuxPane === undefined) s.tmuxPane = line.tmuxPane;
  let regit = false;
  if (line.cwd !== undefined && line.cwd !== s.cwd) {
    s.cwd = line.cwd;
    regit = true;
  }
  if (s.cwd !== undefined && s.git.projectRoot === undefined) regit = true;
  if (!created && !s.hooksSeen && s.status !== "attention_needed") s.status = "working";
  return regit;
}

const INTERACTIVE_TOOLS = new Set(["AskUserQuestion", "EnterPlanMode", "ExitPlanMode"]);

/** Every hook_event_name of §6.3; anything else is an unknown event (§6.5). */
export const KNOWN_HOOKS: ReadonlySet<string> = new Set(HOOK_EVENTS);

function set(s: Session, status: Status, activity: string | undefined): void {
  s.status = status;
  s.activity = activity;
}

/** The transition table of §6.3 (status and activity only). */
export function applyTransition(s: Session, h: HookData): void {
  switch (h.hookEventName) {
    case "PreToolUse":
      if (h.toolName === undefined) return;
      set(s, INTERACTIVE_TOOLS.has(h.toolName.trim()) ? "attention_needed" : "working", h.toolName);
      return;
    case "PermissionRequest":
      return set(s, "attention_needed", "Permission");
    case "PostToolUse":
    case "PostToolUseFailure":
    case "PostToolBatch":
      return set(s, "working", "Thinking");
    case "UserPromptSubmit":
    case "UserPromptExpansion":
    case "PostCompact":
    case "ElicitationResult":
      return set(s, "working", undefined);
    case "Stop":
    case "SessionStart":
      return set(s, "idle", undefined);
    case "StopFailure": {
      const reason = typeof h.error === "string" && h.error !== "" ? h.error : "unknown";
      return set(s, "idle", `API error: ${reason}`);
    }
    case "PreCompact":
      return set(s, "working", "Compacting");
    case "Setup":
      return set(s, "working", "Setup");
    case "SubagentStart":
    case "SubagentStop":
      s.status = "working";
      return;
    case "Elicitation":
      return set(s, "attention_needed", "MCP Input");
    case "Notification":
      switch (h.notificationType) {
        case "permission_prompt":
          return set(s, "attention_needed", "Permission");
        case "idle_prompt":
          return set(s, "idle", undefined);
        case "elicitation_dialog":
          return set(s, "attention_needed", "MCP Input");
        case "agent_needs_input":
          return set(s, "attention_needed", "Input");
        default:
          return;
      }
    default:
      return; // CwdChanged and SessionEnd have no status effect here
  }
}

/**
 * Step 6 of §6.2: last_activity, hooks_seen, the transition,
 * first_prompt, tmux pane and working directory. Returns true when git must be re-resolved.
 */
export function applyHook(s: Session, h: HookData, now: number): boolean {
  touch(s, now);
  s.hooksSeen = true;
  applyTransition(s, h);
  if (h.hookEventName === "UserPromptSubmit" && h.prompt !== undefined && h.prompt !== "" && s.firstPrompt === undefined) {
    const cut = firstCodePoints(h.prompt, FIRST_PROMPT_MAX);
    // A slice may keep the whole (up to a megabyte) prompt alive; copy the short part out.
    s.firstPrompt = cut.length < h.prompt.length ? Array.from(cut).join("") : cut;
  }
  if (h.tmuxPane !== undefined && s.tmuxPane === undefined) s.tmuxPane = h.tmuxPane;
  if (h.hookEventName === "CwdChanged") {
    const next = typeof h.newCwd === "string" && h.newCwd !== "" ? h.newCwd : h.cwd !== undefined && h.cwd !== "" ? h.cwd : undefined;
    if (next !== undefined && next !== s.cwd) {
      s.cwd = next;
      return true;
    }
    return false;
  }
  if (s.cwd === undefined && h.cwd !== undefined && h.cwd !== "") {
    s.cwd = h.cwd;
    return true;
  }
  return false;
}
