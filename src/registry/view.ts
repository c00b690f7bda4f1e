// Session → SessionView, the wire object (SESSIONS.md §7): every key in wire order, `null`
// versus omitted exactly as the table says, relative times computed against `now`.
import {
  contextDisplay, contextPercentage, costDisplay, durationDisplay, idShort, relativeDisplay,
  shortenPath,
} from "./format.ts";
import { defaultContextWindow, modelDisplayName } from "./models.ts";
import type { Session } from "./session.ts";
import type { SessionView } from "./types.ts";

const LABEL = { idle: "idle", working: "working", attention_needed: "needs input" } as const;
const ICON = { idle: "-", working: ">", attention_needed: "!" } as const;

export function toView(s: Session, now: number): SessionView {
  const tokens = s.cacheReadTokens + s.currentInputTokens + s.cacheCreationTokens;
  const window = s.contextWindowSize ?? defaultContextWindow(s.modelId);
  const pct = contextPercentage(tokens, window);
  const attention = s.status === "attention_needed";
  const costUsd = s.costMicros / 1_000_000;
  // harness is assigned last so that the optional keys land before it in insertion order.
  const v = {
    id: s.id,
    id_short: idShort(s.id),
    agent_type: s.agentType,
    model: modelDisplayName(s.modelId, s.modelDisplayName),
    status: s.status,
    status_label: LABEL[s.status],
    activity_detail: s.activity ?? null,
    should_blink: attention,
    status_icon: ICON[s.status],
    context_percentage: pct,
    context_display: contextDisplay(tokens, window),
    context_warning: pct >= 80,
    context_critical: pct >= 90,
    cost_display: costDisplay(costUsd),
    cost_usd: costUsd,
    duration_display: durationDisplay(s.durationMs),
    duration_seconds: s.durationMs / 1000,
    lines_display: `+${s.linesAdded} -${s.linesRemoved}`,
    working_directory: s.cwd === undefined ? null : shortenPath(s.cwd),
    needs_attention: attention || pct >= 80,
    last_activity_display: relativeDisplay(now - s.lastActivity),
    age_display: relativeDisplay(now - s.startedAt),
    started_at: s.startedAtText,
    last_activity: s.lastActivityText,
    tmux_pane: s.tmuxPane ?? null,
  } as SessionView;
  if (s.git.projectRoot !== undefined) v.project_root = s.git.projectRoot;
  if (s.git.worktreePath !== undefined) v.worktree_path = s.git.worktreePath;
  if (s.git.worktreeBranch !== undefined) v.worktree_branch = s.git.worktreeBranch;
  if (s.parentSessionId !== undefined) v.parent_session_id = s.parentSessionId;
  if (s.childSessionIds.length > 0) v.child_session_ids = [...s.childSessionIds];
  if (s.firstPrompt !== undefined) v.first_prompt = s.firstPrompt;
  v.harness = "claude";
  return v;
}
