// The seam between the transport and the session domain: what the server hands the registry
// and what it gets back. The registry is pure and synchronous; it never touches a socket and
// never throws on client input — anything unusable comes back as `error`.

/** The wire object describing one session (SESSIONS.md §7). Key order is the wire order. */
export interface SessionView {
  id: string;
  id_short: string;
  agent_type: string;
  model: string;
  status: "idle" | "working" | "attention_needed";
  status_label: string;
  activity_detail: string | null;
  should_blink: boolean;
  status_icon: string;
  context_percentage: number;
  context_display: string;
  context_warning: boolean;
  context_critical: boolean;
  cost_display: string;
  cost_usd: number;
  duration_display: string;
  duration_seconds: number;
  lines_display: string;
  working_directory: string | null;
  needs_attention: boolean;
  last_activity_display: string;
  age_display: string;
  started_at: string;
  last_activity: string;
  tmux_pane: string | null;
  project_root?: string;
  worktree_path?: string;
  worktree_branch?: string;
  parent_session_id?: string;
  child_session_ids?: string[];
  first_prompt?: string;
  harness: "claude";
}

/** A registry change, in the order it must be broadcast (SESSIONS.md §3.3). */
export type RegistryEvent =
  | { type: "session_updated"; session: SessionView }
  | { type: "session_removed"; session_id: string };

/**
 * A session coming, going or getting its real id, for the daemon's log (DAEMON.md §9): ids, pids
 * and reasons only, never payloads.
 */
export type LifecycleNote =
  | { kind: "created"; id: string; pid: number; by: "status line" | "hook" | "discovery" }
  | { kind: "renamed"; from: string; id: string; pid: number }
  | { kind: "removed"; id: string; pid: number; reason: RemoveReason };

export type RemoveReason = "ended" | "process died" | "expired" | "displaced";

export type RegistryErrorCode = "parse_error" | "registry_full";

export interface RegistryError {
  code: RegistryErrorCode;
  message: string;
}

/** Outcome of one status_update / hook_event. `error` is at most one reply to the sender. */
export interface RegistryResult {
  events: RegistryEvent[];
  error?: RegistryError;
  /** hook_event only: the event name was not one atmd knows (accepted silently). */
  unknownHook?: boolean;
}

/** A Claude process found by a discovery scan (SESSIONS.md §12.3). */
export interface DiscoveredProcess {
  pid: number;
  cwd: string;
  tmuxPane: string | null;
}

export interface DiscoveryResult {
  events: RegistryEvent[];
  discovered: number;
  failed: number;
}

/** Counters the registry keeps for `stats` (PROTOCOL.md §13). A rename counts as neither. */
export interface RegistryCounters {
  sessionsCreated: number;
  sessionsRemoved: number;
}

/**
 * What the daemon needs from the registry. `now` is milliseconds since the epoch (may carry a
 * fractional part for sub-millisecond timestamps).
 */
export interface SessionRegistry {
  readonly size: number;
  readonly maxSessions: number;
  readonly counters: RegistryCounters;
  statusUpdate(data: unknown, now: number): RegistryResult;
  hookEvent(data: unknown, now: number): RegistryResult;
  /** All sessions, ordered by started_at then id (PROTOCOL.md §7.4). */
  list(now: number): SessionView[];
  /** The view of one session, or undefined. */
  view(id: string, now: number): SessionView | undefined;
  /** Registers discovered processes (pids not yet tracked), ascending pid order. */
  discovered(procs: readonly DiscoveredProcess[], now: number): DiscoveryResult;
  /** Pids currently tracked (discovery skips these). */
  hasPid(pid: number): boolean;
  /**
   * The 2 s cleanup tick (SESSIONS.md §13.2): checks liveness off the message path (async reads
   * through the System port) and applies removals in one synchronous step at the end.
   */
  cleanup(now: () => number): Promise<RegistryEvent[]>;
  /** The 5 s git refresh (SESSIONS.md §11): `session_updated` only for sessions whose git info changed. */
  refreshGit(now: () => number): Promise<RegistryEvent[]>;
  /** Sessions created, renamed and removed since the last call, oldest first (at most 1,024 kept). */
  takeLifecycle(): LifecycleNote[];
}
