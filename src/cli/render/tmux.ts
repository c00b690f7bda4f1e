// The `atmd tmux-status` line (DAEMON.md §6): `<a>↑ <n>! $<cost>` — sessions working, sessions
// needing attention, total cost with 2 decimals; zero parts left out; empty with no sessions.
// `tmux` adds tmux colour markup. Pure and import-free: tmux runs this every few seconds in
// every client, so its import graph stays tiny.

export interface TmuxCounts {
  working: number;
  attention: number;
  costUsd: number;
}

/** Counts the parts from raw wire sessions (no validation library: cheap and forgiving). */
export function tmuxCounts(sessions: readonly unknown[]): TmuxCounts {
  const c: TmuxCounts = { working: 0, attention: 0, costUsd: 0 };
  for (const s of sessions) {
    if (typeof s !== "object" || s === null) continue;
    const v = s as { status?: unknown; cost_usd?: unknown };
    if (v.status === "working") c.working++;
    else if (v.status === "attention_needed") c.attention++;
    if (typeof v.cost_usd === "number" && Number.isFinite(v.cost_usd) && v.cost_usd > 0) c.costUsd += v.cost_usd;
  }
  return c;
}

/** The line without a newline; "" when every part is zero. */
export function tmuxLine(c: TmuxCounts, tmux: boolean): string {
  const parts: string[] = [];
  // Round to cents first so a total of 0.004 counts as zero and is left out like the others.
  const cents = Math.round(c.costUsd * 100);
  if (c.working > 0) parts.push(tmux ? `#[fg=green]${c.working}↑#[default]` : `${c.working}↑`);
  if (c.attention > 0) parts.push(tmux ? `#[fg=red,bold]${c.attention}!#[default]` : `${c.attention}!`);
  if (cents > 0) {
    const cost = `$${(cents / 100).toFixed(2)}`;
    parts.push(tmux ? `#[fg=yellow]${cost}#[default]` : cost);
  }
  return parts.join(" ");
}
