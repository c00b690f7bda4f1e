// Interim registry: just enough of SESSIONS.md for the transport to be exercised (sessions by pid
// from status lines). Replaced by the full model (issue "Session registry").
import type {
  DiscoveredProcess, DiscoveryResult, RegistryCounters, RegistryEvent, RegistryResult,
  SessionRegistry, SessionView,
} from "./types.ts";

interface Session { id: string; pid: number; model: string; startedAt: number; lastActivity: number; }

function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.(\d{3})Z$/, ".$1000000+00:00");
}

export class Registry implements SessionRegistry {
  private byPid = new Map<number, Session>();
  readonly counters: RegistryCounters = { sessionsCreated: 0, sessionsRemoved: 0 };
  readonly maxSessions: number;
  constructor(opts: { maxSessions?: number; unverifiedTtlMs?: number } = {}) {
    this.maxSessions = opts.maxSessions ?? 100;
  }
  get size(): number { return this.byPid.size; }

  private toView(s: Session, _now: number): SessionView {
    return {
      id: s.id, id_short: s.id.slice(0, 8), agent_type: "main", model: s.model, status: "idle",
      status_label: "idle", activity_detail: null, should_blink: false, status_icon: "-",
      context_percentage: 0, context_display: "0.0% (0/200K)", context_warning: false,
      context_critical: false, cost_display: "$0.00", cost_usd: 0, duration_display: "0s",
      duration_seconds: 0, lines_display: "+0 -0", working_directory: null, needs_attention: false,
      last_activity_display: "0s ago", age_display: "0s ago", started_at: iso(s.startedAt),
      last_activity: iso(s.lastActivity), tmux_pane: null, harness: "claude",
    };
  }

  statusUpdate(data: unknown, now: number): RegistryResult {
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      return { events: [], error: { code: "parse_error", message: "Parse error: Missing session_id" } };
    }
    const d = data as Record<string, unknown>;
    if (typeof d.session_id !== "string") {
      return { events: [], error: { code: "parse_error", message: "Parse error: Missing session_id" } };
    }
    const pid = typeof d.pid === "number" && Number.isInteger(d.pid) && d.pid > 0 ? d.pid : undefined;
    if (pid === undefined) return { events: [] };
    let s = this.byPid.get(pid);
    if (!s) {
      const model = d.model as { display_name?: unknown } | undefined;
      if (typeof model !== "object" || model === null) return { events: [] };
      if (this.byPid.size >= this.maxSessions) {
        return { events: [], error: { code: "registry_full", message: `Registry error: registry is full (max: ${this.maxSessions} sessions)` } };
      }
      s = { id: d.session_id, pid, model: typeof model.display_name === "string" ? model.display_name : "Unknown", startedAt: now, lastActivity: now };
      this.byPid.set(pid, s);
      this.counters.sessionsCreated++;
    }
    s.lastActivity = now;
    return { events: [{ type: "session_updated", session: this.toView(s, now) }] };
  }

  hookEvent(data: unknown, _now: number): RegistryResult {
    if (typeof data !== "object" || data === null) return { events: [], error: { code: "parse_error", message: "Parse error: expected a JSON object" } };
    return { events: [] };
  }

  list(now: number): SessionView[] {
    return [...this.byPid.values()]
      .sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((s) => this.toView(s, now));
  }

  view(id: string, now: number): SessionView | undefined {
    for (const s of this.byPid.values()) if (s.id === id) return this.toView(s, now);
    return undefined;
  }

  discovered(_procs: readonly DiscoveredProcess[], _now: number): DiscoveryResult {
    return { events: [], discovered: 0, failed: 0 };
  }

  hasPid(pid: number): boolean { return this.byPid.has(pid); }
  async cleanup(_now: () => number): Promise<RegistryEvent[]> { return []; }
  async refreshGit(_now: () => number): Promise<RegistryEvent[]> { return []; }
}
