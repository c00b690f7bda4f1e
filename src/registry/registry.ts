// The session registry (SESSIONS.md §3, §4, §6.6, §12.3, §13, §14): one canonical session per
// pid and per session id, messages in → RegistryEvents out, synchronously and without throwing on
// client input. The OS is reached only through the System port; the periodic upkeep does its
// reads asynchronously and applies what it found in one synchronous step.
import { parseHookData, parseStatusLine } from "../protocol/claude.ts";
import type { HookData } from "../protocol/claude.ts";
import { sameGitInfo } from "../system/git.ts";
import type { GitInfo } from "../system/git.ts";
import { ancestors } from "../system/proc.ts";
import { mapAgentType } from "./models.ts";
import { applyHook, applyStatusLine, KNOWN_HOOKS, newSession, touch } from "./session.ts";
import type { Session } from "./session.ts";
import { realSystem } from "./system.ts";
import type { System } from "./system.ts";
import type {
  DiscoveredProcess,
  DiscoveryResult,
  LifecycleNote,
  RegistryCounters,
  RegistryEvent,
  RegistryResult,
  RemoveReason,
  SessionRegistry,
  SessionView,
} from "./types.ts";
import { toView } from "./view.ts";

export type { System };

export interface RegistryOptions {
  /** Session cap (ATM_MAX_SESSIONS), default 100. */
  maxSessions?: number;
  /** Quiet time after which an unverified session expires (ATM_UNVERIFIED_TTL_SECS × 1000). */
  unverifiedTtlMs?: number;
  system?: System;
}

export const DEFAULT_MAX_SESSIONS = 100;
export const DEFAULT_UNVERIFIED_TTL_MS = 1_800_000;
export const SUBAGENT_TTL_MS = 30_000;
/** Ancestors searched for a subagent's parent (§14.2 rule 4). */
const SUBAGENT_ANCESTORS = 19;
/** Bounds for state a flood of messages could otherwise grow within one upkeep period. */
const MAX_PENDING_SUBAGENTS = 1024;
const MAX_GIT_CACHE = 1024;
/** Lifecycle notes kept for the log when nobody takes them (a registry used on its own). */
const MAX_LIFECYCLE_NOTES = 1024;
/** How long a git lookup on the message path is reused (see resolveGitFor). */
const GIT_FRESH_MS = 1000;

interface PendingSubagent {
  agentId: string;
  parentPid: number;
  parentStartTime: number | undefined;
  agentType: string;
  createdAt: number;
}

type Location =
  | { kind: "ignore" }
  | { kind: "create" }
  | { kind: "apply"; s: Session }
  | { kind: "rename"; s: Session }
  | { kind: "move"; s: Session; displaced: Session | undefined };

function fullError(max: number): RegistryResult {
  return { events: [], error: { code: "registry_full", message: `Registry error: registry is full (max: ${max} sessions)` } };
}

/** Code-point order (= UTF-8 byte order), which is what the reference's string sort gives. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

export class Registry implements SessionRegistry {
  readonly maxSessions: number;
  readonly counters: RegistryCounters = { sessionsCreated: 0, sessionsRemoved: 0 };
  private readonly ttlMs: number;
  private readonly sys: System;
  private readonly byId = new Map<string, Session>();
  private readonly byPid = new Map<number, Session>();
  private pendingSubagents: PendingSubagent[] = [];
  /** cwd -> git info and when (message clock) it was read; see resolveGitFor. */
  private gitCache = new Map<string, { info: GitInfo; at: number }>();
  /** For the daemon's log; see takeLifecycle. */
  private lifecycle: LifecycleNote[] = [];

  constructor(opts: RegistryOptions | number = {}) {
    const o = typeof opts === "number" ? { maxSessions: opts } : opts;
    this.maxSessions = o.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.ttlMs = o.unverifiedTtlMs ?? DEFAULT_UNVERIFIED_TTL_MS;
    this.sys = o.system ?? realSystem;
  }

  get size(): number {
    return this.byId.size;
  }

  // ---- status_update (§5) ------------------------------------------------------------------

  statusUpdate(data: unknown, now: number): RegistryResult {
    const parsed = parseStatusLine(data);
    if (!parsed.ok) {
      const message = parsed.missingSessionId ? "Parse error: Missing session_id" : `Registry error: parse error: ${parsed.detail}`;
      return { events: [], error: { code: "parse_error", message } };
    }
    const line = parsed.value;
    const loc = this.locate(line.sessionId, line.pid, false);
    const events: RegistryEvent[] = [];
    if (loc.kind === "ignore") return { events };
    if (loc.kind === "create") {
      if (line.model === undefined || line.pid === undefined) return { events };
      if (this.byId.size >= this.maxSessions) return fullError(this.maxSessions);
      const s = this.create(line.sessionId, line.pid, now, "status line");
      if (applyStatusLine(s, line, now, true)) this.resolveGitFor(s, now);
      events.push({ type: "session_updated", session: toView(s, now) });
      return { events };
    }
    const after: Session[] = [];
    const s = this.reach(loc, line.sessionId, line.pid, line.tmuxPane, events, after, now);
    if (applyStatusLine(s, line, now, false)) this.resolveGitFor(s, now);
    this.publishWithAfter(s, after, events, now);
    return { events };
  }

  // ---- hook_event (§6) ---------------------------------------------------------------------

  hookEvent(data: unknown, now: number): RegistryResult {
    const parsed = parseHookData(data);
    if (!parsed.ok) return { events: [], error: { code: "parse_error", message: `Parse error: ${parsed.detail}` } };
    const h = parsed.value;
    const events: RegistryEvent[] = [];
    if (!KNOWN_HOOKS.has(h.hookEventName)) {
      const s = this.byId.get(h.sessionId);
      if (s !== undefined) {
        touch(s, now);
        s.hooksSeen = true;
      }
      return { events, unknownHook: true };
    }
    if (h.hookEventName === "SessionEnd") {
      const target = this.byId.get(h.sessionId) ?? (h.pid === undefined ? undefined : this.byPid.get(h.pid));
      if (target !== undefined && (target.id === h.sessionId || target.id.startsWith("pending-"))) {
        this.remove(target, events, now, "ended");
      }
      return { events };
    }
    if (h.agentId !== undefined) {
      if (h.hookEventName === "SubagentStart") this.recordSubagent(h, now);
      else if (h.hookEventName === "SubagentStop") {
        this.pendingSubagents = this.pendingSubagents.filter((e) => e.agentId !== h.agentId);
      }
    }
    const loc = this.locate(h.sessionId, h.pid, true);
    if (loc.kind === "ignore") return { events };
    if (loc.kind === "create") {
      if (h.pid === undefined) return { events };
      if (this.byId.size >= this.maxSessions) return fullError(this.maxSessions);
      const s = this.create(h.sessionId, h.pid, now, "hook");
      if (applyHook(s, h, now)) this.resolveGitFor(s, now);
      events.push({ type: "session_updated", session: toView(s, now) });
      this.correlate(s, now, events);
      return { events };
    }
    const after: Session[] = [];
    const s = this.reach(loc, h.sessionId, h.pid, h.tmuxPane, events, after, now);
    if (applyHook(s, h, now)) this.resolveGitFor(s, now);
    this.publishWithAfter(s, after, events, now);
    return { events };
  }

  // ---- queries -----------------------------------------------------------------------------

  list(now: number): SessionView[] {
    return [...this.byId.values()]
      .sort((a, b) => (a.startedAtText < b.startedAtText ? -1 : a.startedAtText > b.startedAtText ? 1 : compareIds(a.id, b.id)))
      .map((s) => toView(s, now));
  }

  view(id: string, now: number): SessionView | undefined {
    const s = this.byId.get(id);
    return s === undefined ? undefined : toView(s, now);
  }

  hasPid(pid: number): boolean {
    return this.byPid.has(pid);
  }

  // ---- discovery (§12.3) -------------------------------------------------------------------

  discovered(procs: readonly DiscoveredProcess[], now: number): DiscoveryResult {
    const events: RegistryEvent[] = [];
    let discovered = 0;
    let failed = 0;
    const sorted = [...procs].sort((a, b) => a.pid - b.pid);
    for (const p of sorted) {
      if (!Number.isInteger(p.pid) || p.pid < 1 || p.pid > 4_294_967_295) continue;
      const id = `pending-${p.pid}`;
      // A client may already use the pending id for another pid; the id index must stay unique.
      if (this.byPid.has(p.pid) || this.byId.has(id)) continue;
      if (this.byId.size >= this.maxSessions) {
        failed++;
        continue;
      }
      const s = this.create(id, p.pid, now, "discovery");
      s.cwd = p.cwd;
      s.tmuxPane = p.tmuxPane ?? undefined;
      this.resolveGitFor(s, now);
      events.push({ type: "session_updated", session: toView(s, now) });
      this.correlate(s, now, events);
      discovered++;
    }
    return { events, discovered, failed };
  }

  // ---- upkeep (§13.2, §11) -----------------------------------------------------------------

  async cleanup(nowFn: () => number): Promise<RegistryEvent[]> {
    const start = nowFn();
    this.pendingSubagents = this.pendingSubagents.filter((e) => start - e.createdAt < SUBAGENT_TTL_MS);
    const checks: { s: Session; id: string; pid: number; startTime: number | undefined }[] = [];
    for (const s of this.byId.values()) {
      if (s.pidVerified) checks.push({ s, id: s.id, pid: s.pid, startTime: s.startTime });
    }
    const alive = await Promise.all(checks.map((c) => this.sys.pidAlive(c.pid, c.startTime).catch(() => true)));
    // Applied in one synchronous step, judging each session by its state now (§13.2).
    const now = nowFn();
    const events: RegistryEvent[] = [];
    checks.forEach((c, i) => {
      if (alive[i] !== false) return;
      const s = c.s;
      if (this.byId.get(c.id) !== s || s.pid !== c.pid || !s.pidVerified || s.startTime !== c.startTime) return;
      this.remove(s, events, now, "process died");
    });
    for (const s of [...this.byId.values()]) {
      if (!s.pidVerified && now - s.lastActivity >= this.ttlMs) this.remove(s, events, now, "expired");
    }
    return events;
  }

  async refreshGit(nowFn: () => number): Promise<RegistryEvent[]> {
    const cwds = new Set<string>();
    for (const s of this.byId.values()) if (s.cwd !== undefined) cwds.add(s.cwd);
    const list = [...cwds];
    const infos = await Promise.all(list.map((c) => this.sys.resolveGitAsync(c).catch(() => undefined)));
    const now = nowFn();
    const fresh = new Map<string, GitInfo>();
    const cache = new Map<string, { info: GitInfo; at: number }>();
    list.forEach((c, i) => {
      const info = infos[i];
      if (info !== undefined) {
        fresh.set(c, info);
        cache.set(c, { info, at: now });
      }
    });
    this.gitCache = cache; // also forgets directories no session uses any more
    const events: RegistryEvent[] = [];
    for (const s of this.byId.values()) {
      if (s.cwd === undefined) continue;
      const info = fresh.get(s.cwd);
      if (info === undefined || sameGitInfo(info, s.git)) continue;
      s.git = info;
      events.push({ type: "session_updated", session: toView(s, now) });
    }
    return events;
  }

  // ---- internals ---------------------------------------------------------------------------

  /** §3.2: which session a message with id `sid` and pid `pid` concerns. */
  private locate(sid: string, pid: number | undefined, hook: boolean): Location {
    const a = this.byId.get(sid);
    if (pid === undefined) return a === undefined ? { kind: "ignore" } : { kind: "apply", s: a };
    const b = this.byPid.get(pid);
    if (b !== undefined && b.id === sid) return { kind: "apply", s: b };
    if (a !== undefined) return { kind: "move", s: a, displaced: b };
    if (b !== undefined) {
      // Hooks rename only pending sessions: a nested claude reports its outer session's pid.
      return hook && !b.id.startsWith("pending-") ? { kind: "apply", s: b } : { kind: "rename", s: b };
    }
    return { kind: "create" };
  }

  /** Performs the rename / move part of a location; returns the session to apply to. */
  private reach(
    loc: Exclude<Location, { kind: "ignore" } | { kind: "create" }>, sid: string, pid: number | undefined,
    tmuxPane: string | undefined, events: RegistryEvent[], after: Session[], now: number,
  ): Session {
    const s = loc.s;
    if (loc.kind === "rename") {
      const old = s.id;
      this.byId.delete(old);
      s.id = sid;
      this.byId.set(sid, s);
      events.push({ type: "session_removed", session_id: old });
      this.note({ kind: "renamed", from: old, id: sid, pid: s.pid });
      this.rewriteLinks(old, sid, s, after);
    } else if (loc.kind === "move" && pid !== undefined) {
      if (loc.displaced !== undefined) this.remove(loc.displaced, events, now, "displaced");
      if (this.byPid.get(s.pid) === s) this.byPid.delete(s.pid);
      s.pid = pid;
      this.byPid.set(pid, s);
      const check = this.sys.verifyPid(pid);
      s.pidVerified = check.verified;
      s.startTime = check.startTime;
      // The old pane belonged to the old process.
      s.tmuxPane = tmuxPane;
    }
    return s;
  }

  private publishWithAfter(s: Session, after: Session[], events: RegistryEvent[], now: number): void {
    events.push({ type: "session_updated", session: toView(s, now) });
    for (const o of after) events.push({ type: "session_updated", session: toView(o, now) });
  }

  takeLifecycle(): LifecycleNote[] {
    const notes = this.lifecycle;
    this.lifecycle = [];
    return notes;
  }

  private note(n: LifecycleNote): void {
    if (this.lifecycle.length >= MAX_LIFECYCLE_NOTES) this.lifecycle.shift(); // nobody is taking them
    this.lifecycle.push(n);
  }

  private create(id: string, pid: number, now: number, by: "status line" | "hook" | "discovery"): Session {
    const check = this.sys.verifyPid(pid);
    const s = newSession(id, pid, now, check.verified, check.startTime);
    this.byId.set(id, s);
    this.byPid.set(pid, s);
    this.counters.sessionsCreated++;
    this.note({ kind: "created", id, pid, by });
    return s;
  }

  /** Removal with link clean-ups (§14.4): `session_removed`, then every session it touched. */
  private remove(s: Session, events: RegistryEvent[], now: number, reason: RemoveReason): void {
    if (this.byId.get(s.id) === s) this.byId.delete(s.id);
    if (this.byPid.get(s.pid) === s) this.byPid.delete(s.pid);
    this.counters.sessionsRemoved++;
    this.note({ kind: "removed", id: s.id, pid: s.pid, reason });
    events.push({ type: "session_removed", session_id: s.id });
    for (const o of this.byId.values()) {
      let changed = false;
      if (o.parentSessionId === s.id) {
        o.parentSessionId = undefined;
        changed = true;
      }
      const i = o.childSessionIds.indexOf(s.id);
      if (i !== -1) {
        o.childSessionIds = o.childSessionIds.filter((c) => c !== s.id);
        changed = true;
      }
      if (changed) events.push({ type: "session_updated", session: toView(o, now) });
    }
  }

  /** Rename follow-up (§14.4): other sessions' links now name the new id. */
  private rewriteLinks(oldId: string, newId: string, self: Session, after: Session[]): void {
    for (const o of this.byId.values()) {
      if (o === self) continue;
      let changed = false;
      if (o.parentSessionId === oldId) {
        o.parentSessionId = newId;
        changed = true;
      }
      if (o.childSessionIds.includes(oldId)) {
        const next: string[] = [];
        for (const c of o.childSessionIds) {
          const id = c === oldId ? newId : c;
          if (!next.includes(id)) next.push(id);
        }
        o.childSessionIds = next;
        changed = true;
      }
      if (changed) after.push(o);
    }
  }

  /**
   * Git info for a session's cwd on the message path (§11 triggers). A lookup younger than
   * GIT_FRESH_MS is reused: status lines of a session outside any repo would otherwise walk to `/`
   * on every line. So a repository created or switched a moment ago shows up within that time
   * (and at the latest with the 5 s refresh), not always in the very message that follows.
   */
  private resolveGitFor(s: Session, now: number): void {
    if (s.cwd === undefined) return;
    const hit = this.gitCache.get(s.cwd);
    if (hit !== undefined && now - hit.at >= 0 && now - hit.at < GIT_FRESH_MS) {
      s.git = hit.info;
      return;
    }
    const info = this.sys.resolveGit(s.cwd);
    if (this.gitCache.size >= MAX_GIT_CACHE) this.gitCache.clear();
    this.gitCache.set(s.cwd, { info, at: now });
    s.git = info;
  }

  private recordSubagent(h: HookData, now: number): void {
    const parentPid = h.pid ?? this.byId.get(h.sessionId)?.pid;
    if (parentPid === undefined || h.agentId === undefined) return;
    if (this.pendingSubagents.length >= MAX_PENDING_SUBAGENTS) this.pendingSubagents.shift();
    this.pendingSubagents.push({
      agentId: h.agentId,
      parentPid,
      parentStartTime: this.sys.startTime(parentPid),
      agentType: mapAgentType(h.agentType),
      createdAt: now,
    });
  }

  /** §14.2–14.3: link a newly created session to the parent whose SubagentStart spawned it. */
  private correlate(child: Session, now: number, events: RegistryEvent[]): void {
    let chain: number[] | undefined;
    for (let i = 0; i < this.pendingSubagents.length; ) {
      const e = this.pendingSubagents[i] as PendingSubagent;
      const parent = this.byPid.get(e.parentPid);
      if (now - e.createdAt >= SUBAGENT_TTL_MS || parent === undefined) {
        this.pendingSubagents.splice(i, 1);
        continue;
      }
      i++;
      if (e.parentPid === child.pid || parent.id === child.id) continue;
      if (e.parentStartTime !== undefined && this.sys.startTime(e.parentPid) !== e.parentStartTime) continue;
      chain ??= ancestors(child.pid, SUBAGENT_ANCESTORS, (p) => this.sys.parentPid(p));
      if (!chain.includes(e.parentPid)) continue;
      this.pendingSubagents.splice(i - 1, 1);
      if (!parent.childSessionIds.includes(child.id)) parent.childSessionIds.push(child.id);
      child.parentSessionId = parent.id;
      child.agentType = e.agentType;
      events.push({ type: "session_updated", session: toView(parent, now) });
      events.push({ type: "session_updated", session: toView(child, now) });
      return;
    }
  }
}
