// Session ordering for the client commands (DAEMON.md §6): grouped by project (groups ordered by
// their newest session), newest `started_at` first inside a group, and each linked subagent right
// under its parent (SESSIONS.md §14), indented. Pure.
import { isObject } from "../../protocol/json.ts";
import { idShort, lastPathComponent } from "../../registry/format.ts";
import type { SessionView } from "../../registry/types.ts";

export type StatusFilter = "working" | "idle" | "attention";

export const STATUS_FILTERS: readonly StatusFilter[] = ["working", "idle", "attention"];

/** `--status` keeps only sessions in that status (`attention` = `attention_needed`). */
export function matchesStatus(view: SessionView, filter: StatusFilter | undefined): boolean {
  if (filter === undefined) return true;
  return view.status === (filter === "attention" ? "attention_needed" : filter);
}

/** One row of the table: a session and how deep it is nested under parents. */
export interface Row {
  view: SessionView;
  depth: number;
}

/** The grouping key: the project root, else the working directory, else "" (no project). */
export function projectKey(view: SessionView): string {
  return view.project_root ?? view.working_directory ?? "";
}

/** The last path component of the project root or the working directory (`/` stays `/`). */
export function projectName(view: SessionView): string {
  const path = view.project_root ?? view.working_directory;
  if (path === null || path === undefined || path === "") return "";
  return lastPathComponent(path);
}

// Newest first; equal timestamps fall back to the id so the order is stable across runs.
// Timestamps are fixed-width RFC 3339 strings, so string order is time order (SESSIONS.md §8).
function newestFirst(a: SessionView, b: SessionView): number {
  if (a.started_at !== b.started_at) return a.started_at > b.started_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Orders sessions for display. A session whose `parent_session_id` names a session in `views`
 * is listed under that parent (children in the parent's `child_session_ids` order, then any
 * others newest first); a session whose parent is absent (gone, or filtered out) is top level.
 * Every session appears exactly once, cycles included.
 */
export function orderSessions(views: readonly SessionView[]): Row[] {
  const byId = new Map<string, SessionView>();
  for (const v of views) if (!byId.has(v.id)) byId.set(v.id, v);
  const unique = [...byId.values()];

  const children = new Map<string, SessionView[]>();
  const topLevel: SessionView[] = [];
  for (const v of unique) {
    const parent = v.parent_session_id;
    if (parent !== undefined && parent !== v.id && byId.has(parent)) {
      let list = children.get(parent);
      if (!list) children.set(parent, (list = []));
      list.push(v);
    } else {
      topLevel.push(v);
    }
  }
  for (const [parentId, list] of children) {
    const linkOrder = byId.get(parentId)?.child_session_ids ?? [];
    const rank = (v: SessionView): number => {
      const i = linkOrder.indexOf(v.id);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    list.sort((a, b) => rank(a) - rank(b) || newestFirst(a, b));
  }

  // Groups ordered by their newest top-level session; a group's order follows its first member
  // once the members are sorted newest first.
  topLevel.sort(newestFirst);
  const groups = new Map<string, SessionView[]>();
  for (const v of topLevel) {
    const key = projectKey(v);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(v);
  }

  const rows: Row[] = [];
  const placed = new Set<string>();
  const place = (v: SessionView, depth: number): void => {
    if (placed.has(v.id)) return;
    placed.add(v.id);
    rows.push({ view: v, depth });
    for (const c of children.get(v.id) ?? []) place(c, depth + 1);
  };
  for (const g of groups.values()) for (const v of g) place(v, 0);
  // Sessions only reachable through a parent cycle (a → b → a) have no top-level anchor: list them
  // at the top level rather than dropping them.
  for (const v of [...unique].sort(newestFirst)) place(v, 0);
  return rows;
}

/** Counts for headers and the tmux line. */
export interface Counts {
  total: number;
  working: number;
  attention: number;
  idle: number;
  costUsd: number;
}

export function countSessions(views: Iterable<SessionView>): Counts {
  const c: Counts = { total: 0, working: 0, attention: 0, idle: 0, costUsd: 0 };
  for (const v of views) {
    c.total++;
    if (v.status === "working") c.working++;
    else if (v.status === "attention_needed") c.attention++;
    else c.idle++;
    if (Number.isFinite(v.cost_usd)) c.costUsd += v.cost_usd;
  }
  return c;
}

/**
 * Reads one SessionView off the wire. The daemon is trusted to send full views, but an interim or
 * older daemon may leave fields out: missing display fields get neutral defaults so one odd view
 * never breaks the table. Only `id` is required; anything else unusable → null.
 */
export function toView(raw: unknown): SessionView | null {
  if (!isObject(raw)) return null;
  const r = raw;
  if (typeof r.id !== "string") return null;
  const str = (k: string, d: string): string => (typeof r[k] === "string" ? (r[k] as string) : d);
  const num = (k: string): number => (typeof r[k] === "number" && Number.isFinite(r[k]) ? (r[k] as number) : 0);
  const optStr = (k: string): string | undefined => (typeof r[k] === "string" ? (r[k] as string) : undefined);
  const nullStr = (k: string): string | null => (typeof r[k] === "string" ? (r[k] as string) : null);
  const status = r.status === "working" || r.status === "attention_needed" ? r.status : "idle";
  const pct = num("context_percentage");
  const v: SessionView = {
    id: r.id,
    id_short: str("id_short", idShort(r.id)),
    agent_type: str("agent_type", "main"),
    model: str("model", "Unknown"),
    status,
    status_label: str("status_label", status === "attention_needed" ? "needs input" : status),
    activity_detail: nullStr("activity_detail"),
    should_blink: status === "attention_needed",
    status_icon: str("status_icon", status === "working" ? ">" : status === "attention_needed" ? "!" : "-"),
    context_percentage: pct,
    context_display: str("context_display", ""),
    context_warning: typeof r.context_warning === "boolean" ? r.context_warning : pct >= 80,
    context_critical: typeof r.context_critical === "boolean" ? r.context_critical : pct >= 90,
    cost_display: str("cost_display", ""),
    cost_usd: num("cost_usd"),
    duration_display: str("duration_display", ""),
    duration_seconds: num("duration_seconds"),
    lines_display: str("lines_display", ""),
    working_directory: nullStr("working_directory"),
    needs_attention: typeof r.needs_attention === "boolean" ? r.needs_attention : status === "attention_needed",
    last_activity_display: str("last_activity_display", ""),
    age_display: str("age_display", ""),
    started_at: str("started_at", ""),
    last_activity: str("last_activity", ""),
    tmux_pane: nullStr("tmux_pane"),
    harness: "claude",
  };
  const opt = ["project_root", "worktree_path", "worktree_branch", "parent_session_id", "first_prompt"] as const;
  for (const k of opt) {
    const s = optStr(k);
    if (s !== undefined) v[k] = s;
  }
  if (Array.isArray(r.child_session_ids)) {
    v.child_session_ids = r.child_session_ids.filter((x): x is string => typeof x === "string");
  }
  return v;
}
