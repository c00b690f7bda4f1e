// Pure rendering of the client commands (DAEMON.md §6): table content, ordering, grouping,
// subagent nesting, narrow terminals, wide characters, colour only when asked; the watch --lines
// format, the tmux-status line and the stats lines.
import { describe, expect, test } from "bun:test";
import type { SessionView } from "../../src/registry/types.ts";
import { watchLine } from "../../src/cli/render/lines.ts";
import { renderScreen } from "../../src/cli/render/screen.ts";
import { countSessions, matchesStatus, orderSessions, projectName, toView } from "../../src/cli/render/sessions.ts";
import { statsLines } from "../../src/cli/render/stats.ts";
import { contextBar, renderTable } from "../../src/cli/render/table.ts";
import { cellWidth, fit, renderSpans, sanitize, stripAnsi, truncate } from "../../src/cli/render/text.ts";
import { tmuxCounts, tmuxLine } from "../../src/cli/render/tmux.ts";
import { terminalWidth, useColor } from "../../src/cli/tty.ts";

let seq = 0;
function view(over: Partial<SessionView> & { id: string }): SessionView {
  seq++;
  const status = over.status ?? "idle";
  return {
    id_short: over.id.slice(0, 8),
    agent_type: "main",
    model: "Opus 4.5",
    status,
    status_label: status === "attention_needed" ? "needs input" : status,
    activity_detail: null,
    should_blink: status === "attention_needed",
    status_icon: status === "working" ? ">" : status === "attention_needed" ? "!" : "-",
    context_percentage: 21.5,
    context_display: "21.5% (43K/200K)",
    context_warning: false,
    context_critical: false,
    cost_display: "$0.35",
    cost_usd: 0.35,
    duration_display: "2m 15s",
    duration_seconds: 135,
    lines_display: "+1 -2",
    working_directory: "/home/u/code/proj",
    needs_attention: status === "attention_needed",
    last_activity_display: "0s ago",
    age_display: "0s ago",
    started_at: `2026-01-15T10:00:${String(seq % 60).padStart(2, "0")}.000000000+00:00`,
    last_activity: "2026-01-15T10:00:00.000000000+00:00",
    tmux_pane: null,
    harness: "claude",
    ...over,
  };
}

const at = (sec: number): string => `2026-01-15T10:00:${String(sec).padStart(2, "0")}.000000000+00:00`;

/** The id column of each data row (header skipped), ANSI stripped. */
function ids(lines: string[]): string[] {
  return lines.slice(1).map((l) => stripAnsi(l).slice(2).trim().split(/\s+/).filter((t) => t !== "└")[0] ?? "");
}

describe("text", () => {
  test("cell widths: ASCII, CJK, emoji", () => {
    expect(cellWidth("abc")).toBe(3);
    expect(cellWidth("日本語")).toBe(6);
    expect(cellWidth("🚀")).toBe(2);
    expect(cellWidth("\x1b[31mab\x1b[0m")).toBe(2);
  });

  test("truncate cuts by cells and ends in …, never splitting a wide character", () => {
    expect(truncate("hello", 5)).toBe("hello");
    expect(truncate("hello world", 6)).toBe("hello…");
    expect(truncate("日本語テキスト", 6)).toBe("日本…");
    expect(cellWidth(truncate("日本語テキスト", 6))).toBe(5); // the half cell stays empty
    expect(truncate("a🚀b🚀c", 4)).toBe("a🚀…");
    expect(truncate("👨‍👩‍👧 family", 3)).toBe("👨‍👩‍👧…");
    expect(truncate("abc", 1)).toBe("…");
    expect(truncate("abc", 0)).toBe("");
  });

  test("fit pads to exact width, left or right", () => {
    expect(fit("ab", 4)).toBe("ab  ");
    expect(fit("ab", 4, "right")).toBe("  ab");
    expect(cellWidth(fit("日本語テ", 5))).toBe(5);
  });

  test("renderSpans cuts at the width with … and styles only with colour", () => {
    const spans = [{ text: "abc", style: "31" }, { text: "defgh" }];
    expect(renderSpans(spans, 20, false)).toBe("abcdefgh");
    expect(renderSpans(spans, 20, true)).toBe("\x1b[31mabc\x1b[0mdefgh");
    expect(renderSpans(spans, 5, false)).toBe("abcd…");
    expect(renderSpans(spans, 3, false)).toBe("ab…");
    expect(stripAnsi(renderSpans(spans, 5, true))).toBe("abcd…");
  });

  test("control characters from session fields are neutralised", () => {
    expect(sanitize("a\nb\x1b[2Jc\x07")).toBe("a b [2Jc ");
  });
});

describe("ordering", () => {
  test("grouped by project (groups by newest session), newest first inside, children under parents", () => {
    const views = [
      view({ id: "a-old", project_root: "/p/alpha", started_at: at(1) }),
      view({ id: "b-mid", project_root: "/p/beta", started_at: at(2) }),
      view({ id: "a-new", project_root: "/p/alpha", started_at: at(5), child_session_ids: ["kid-2", "kid-1"] }),
      view({ id: "kid-1", project_root: "/p/other", started_at: at(9), parent_session_id: "a-new" }),
      view({ id: "kid-2", project_root: "/p/alpha", started_at: at(3), parent_session_id: "a-new" }),
      view({ id: "c-none", project_root: undefined, working_directory: null, started_at: at(4) }),
      view({ id: "orphan", project_root: "/p/beta", started_at: at(0), parent_session_id: "gone" }),
    ];
    const rows = orderSessions(views);
    expect(rows.map((r) => `${r.view.id}:${r.depth}`)).toEqual([
      "a-new:0",
      "kid-2:1", // link order from child_session_ids, not age
      "kid-1:1",
      "a-old:0",
      "c-none:0",
      "b-mid:0",
      "orphan:0", // parent gone → top level, in its project's group
    ]);
  });

  test("grandchildren nest deeper; cycles and self-parents never lose a session", () => {
    const rows = orderSessions([
      view({ id: "p", started_at: at(1) }),
      view({ id: "c", started_at: at(2), parent_session_id: "p" }),
      view({ id: "g", started_at: at(3), parent_session_id: "c" }),
      view({ id: "x", started_at: at(4), parent_session_id: "y" }),
      view({ id: "y", started_at: at(5), parent_session_id: "x" }),
      view({ id: "s", started_at: at(6), parent_session_id: "s" }),
    ]);
    expect(rows.map((r) => `${r.view.id}:${r.depth}`).sort()).toEqual(["c:1", "g:2", "p:0", "s:0", "x:1", "y:0"].sort());
    expect(rows.length).toBe(6);
  });

  test("status filter and project name", () => {
    expect(matchesStatus(view({ id: "a", status: "attention_needed" }), "attention")).toBe(true);
    expect(matchesStatus(view({ id: "a", status: "working" }), "attention")).toBe(false);
    expect(matchesStatus(view({ id: "a", status: "idle" }), undefined)).toBe(true);
    expect(projectName(view({ id: "a", project_root: "/home/u/code/proj/" }))).toBe("proj");
    expect(projectName(view({ id: "a", working_directory: ".../very-long-project-name/src" }))).toBe("src");
    expect(projectName(view({ id: "a", working_directory: "/" }))).toBe("/");
    expect(projectName(view({ id: "a", working_directory: null }))).toBe("");
  });

  test("toView accepts partial views and rejects non-objects", () => {
    expect(toView(null)).toBeNull();
    expect(toView({ id: 5 })).toBeNull();
    const v = toView({ id: "abcdefghij", status: "working", child_session_ids: ["x", 3] });
    expect(v?.id_short).toBe("abcdefgh");
    expect(v?.status_icon).toBe(">");
    expect(v?.child_session_ids).toEqual(["x"]);
  });
});

describe("table", () => {
  test("discovered sessions show their whole pending-<pid> id, not the common 'pending-' prefix", () => {
    const lines = renderTable([view({ id: "pending-4101" }), view({ id: "pending-4102" })], { width: 200, color: false });
    expect(lines.some((l) => l.includes("pending-4101"))).toBe(true);
    expect(lines.some((l) => l.includes("pending-4102"))).toBe(true);
  });

  const sample = (): SessionView[] => [
    view({ id: "11111111-aaaa", project_root: "/w/alpha", worktree_branch: "main", started_at: at(1), tmux_pane: "%5" }),
    view({
      id: "22222222-bbbb",
      project_root: "/w/alpha",
      started_at: at(2),
      status: "working",
      activity_detail: "Bash",
      child_session_ids: ["33333333-cccc"],
    }),
    view({ id: "33333333-cccc", started_at: at(3), parent_session_id: "22222222-bbbb", agent_type: "explore", model: "Haiku 4.5" }),
    view({
      id: "44444444-dddd",
      project_root: "/w/beta",
      started_at: at(0),
      status: "attention_needed",
      activity_detail: "Permission",
      context_percentage: 92,
      context_display: "92.0% (184K/200K)",
      context_warning: true,
      context_critical: true,
    }),
  ];

  test("content: icon, id, model, context, cost, duration, activity, project/branch, pane", () => {
    const lines = renderTable(sample(), { width: 200, color: false });
    expect(lines.length).toBe(5);
    expect(lines[0]).toMatch(/^\s+ID\s+MODEL\s+CONTEXT\s+COST\s+TIME\s+ACTIVITY\s+PROJECT\s+PANE$/);
    const first = lines[1]!;
    expect(first.startsWith("> 22222222")).toBe(true);
    expect(first).toContain("Opus 4.5");
    expect(first).toContain("██░░░░░░░░ 21.5% (43K/200K)");
    expect(first).toContain("$0.35");
    expect(first).toContain("2m 15s");
    expect(first).toContain("Bash");
    expect(first).toContain("alpha");
    expect(lines[2]).toMatch(/^- └ 33333333\s+Haiku 4.5 · explore/);
    expect(lines[3]).toMatch(/^- 11111111 .* idle\s+alpha \(main\)\s+%5$/);
    expect(lines[4]).toMatch(/^! 44444444 .*Permission\s+beta$/);
    expect(ids(lines)).toEqual(["22222222", "33333333", "11111111", "44444444"]);
    // Columns line up: every row has the activity column at the same cell offset.
    const col = (l: string): number => cellWidth(l.slice(0, l.indexOf("$")));
    expect(new Set(lines.slice(1).map(col)).size).toBe(1);
  });

  test("No sessions.", () => {
    expect(renderTable([], { width: 80, color: false })).toEqual(["No sessions."]);
  });

  test("no ANSI without colour; colour when asked, same text once stripped", () => {
    const plain = renderTable(sample(), { width: 120, color: false });
    for (const l of plain) expect(l).not.toContain("\x1b");
    const colored = renderTable(sample(), { width: 120, color: true });
    expect(colored.join("\n")).toContain("\x1b[");
    expect(colored.map(stripAnsi)).toEqual(plain);
  });

  test("every row fits the width, cut rows end in … (40 columns and others)", () => {
    for (const width of [10, 20, 40, 60, 80, 100]) {
      const lines = renderTable(sample(), { width, color: true });
      for (const l of lines) {
        expect(cellWidth(l)).toBeLessThanOrEqual(width);
        expect(l).not.toContain("\n");
      }
    }
    const narrow = renderTable(sample(), { width: 40, color: false });
    expect(narrow.slice(1).every((l) => l.endsWith("…"))).toBe(true);
    expect(narrow[1]!.startsWith("> 22222222")).toBe(true);
  });

  test("narrowing drops the bar first, then the token counts", () => {
    const wide = renderTable(sample(), { width: 200, color: false });
    expect(wide[1]).toContain("█");
    const mid = renderTable(sample(), { width: 85, color: false });
    expect(mid[1]).not.toContain("█");
    expect(mid[1]).toContain("21.5%");
  });

  test("wide characters and emoji keep the columns aligned", () => {
    const views = [
      view({ id: "aaaaaaaa-1", started_at: at(2), activity_detail: "日本語のツール", project_root: "/w/プロジェクト" }),
      view({ id: "bbbbbbbb-1", started_at: at(1), activity_detail: "🚀 deploy", project_root: "/w/🚀rocket" }),
      view({ id: "cccccccc-1", started_at: at(0), activity_detail: "plain", project_root: "/w/x" }),
    ];
    const lines = renderTable(views, { width: 200, color: false });
    // The pane header/column starts at the same cell in every row (the project column is padded in cells).
    const projCol = (l: string, name: string): number => cellWidth(l.slice(0, l.indexOf(name)));
    expect(projCol(lines[1]!, "プロジェクト")).toBe(projCol(lines[2]!, "🚀rocket"));
    expect(projCol(lines[2]!, "🚀rocket")).toBe(projCol(lines[3]!, "x"));
    for (const width of [30, 40, 57, 58, 59]) {
      for (const l of renderTable(views, { width, color: false })) expect(cellWidth(l)).toBeLessThanOrEqual(width);
    }
  });

  test("hostile text cannot break a row", () => {
    const lines = renderTable([view({ id: "x", activity_detail: "a\nb\x1b[2J" })], { width: 120, color: false });
    expect(lines.length).toBe(2);
    expect(lines[1]).not.toContain("\x1b");
  });

  test("attention highlighted only in the live view and only with colour", () => {
    const v = [view({ id: "a", status: "attention_needed", activity_detail: "Permission" })];
    const live = renderTable(v, { width: 120, color: true, highlightAttention: true })[1]!;
    const list = renderTable(v, { width: 120, color: true })[1]!;
    expect(live).toContain("\x1b[1;5;1;31m!"); // bold row, blinking icon
    expect(live).toContain("\x1b[1m  \x1b[0m"); // even the gaps are bold
    expect(list).not.toContain("\x1b[1m");
    expect(list).not.toContain("\x1b[5;");
    expect(stripAnsi(live)).toBe(stripAnsi(list));
  });

  test("context bar", () => {
    expect(contextBar(0)).toEqual({ filled: "", empty: "░".repeat(10) });
    expect(contextBar(55)).toEqual({ filled: "█".repeat(6), empty: "░".repeat(4) });
    expect(contextBar(250).filled.length).toBe(10);
    expect(contextBar(Number.NaN).filled).toBe("");
  });
});

describe("watch", () => {
  const noon = new Date(2026, 0, 15, 9, 5, 7);
  test("--lines format", () => {
    expect(watchLine({ type: "session_list", sessions: [{}, {}] }, noon)).toBe("09:05:07 list 2 sessions");
    expect(
      watchLine({ type: "session_updated", session: view({ id: "8e11bfb5-xx", status: "working", activity_detail: "Bash" }) }, noon),
    ).toBe("09:05:07 updated 8e11bfb5 working Bash");
    expect(watchLine({ type: "session_updated", session: view({ id: "8e11bfb5-xx" }) }, noon)).toBe(
      "09:05:07 updated 8e11bfb5 idle -",
    );
    expect(watchLine({ type: "session_removed", session_id: "8e11bfb5-xx" }, noon)).toBe("09:05:07 removed 8e11bfb5-xx");
    expect(watchLine({ type: "connected" }, noon)).toBeNull();
  });

  test("screen: header counts, last change, disconnected state, height limit", () => {
    const views = [view({ id: "a", status: "working" }), view({ id: "b", status: "attention_needed" }), view({ id: "c" })];
    const lines = renderScreen(
      { views, connected: true, lastChange: noon, disconnectedSince: null },
      { width: 100, height: 30, color: false },
    );
    expect(lines[0]).toBe("atmd watch  3 sessions · 1 working · 1 needs input · 1 idle  last change 09:05:07");
    expect(lines.at(-1)).toBe("q quit");
    expect(lines.some((l) => l.startsWith("! b"))).toBe(true);
    const down = renderScreen(
      { views, connected: false, lastChange: noon, disconnectedSince: noon },
      { width: 100, height: 30, color: false },
    );
    expect(down[0]).toBe("atmd watch  disconnected since 09:05:07; reconnecting…");
    const short = renderScreen(
      { views, connected: true, lastChange: noon, disconnectedSince: null },
      { width: 40, height: 5, color: true },
    );
    expect(short.length).toBe(5);
    for (const l of short) expect(cellWidth(l)).toBeLessThanOrEqual(40);
    expect(stripAnsi(short[3]!)).toBe("… 3 more");
  });
});

describe("tmux-status", () => {
  test("parts, zero parts left out, empty with no sessions", () => {
    const s = [
      { status: "working", cost_usd: 1.5 },
      { status: "working", cost_usd: 0.25 },
      { status: "attention_needed", cost_usd: 1 },
      { status: "idle", cost_usd: 0.006 },
      "garbage",
      null,
    ];
    expect(tmuxLine(tmuxCounts(s), false)).toBe("2↑ 1! $2.76");
    expect(tmuxLine(tmuxCounts([{ status: "idle", cost_usd: 3 }]), false)).toBe("$3.00");
    expect(tmuxLine(tmuxCounts([{ status: "attention_needed", cost_usd: 0 }]), false)).toBe("1!");
    expect(tmuxLine(tmuxCounts([{ status: "idle", cost_usd: 0 }]), false)).toBe("");
    expect(tmuxLine(tmuxCounts([]), false)).toBe("");
    expect(tmuxLine(tmuxCounts(s), true)).toBe("#[fg=green]2↑#[default] #[fg=red,bold]1!#[default] #[fg=yellow]$2.76#[default]");
  });
  test("countSessions", () => {
    expect(countSessions([view({ id: "a", status: "working" }), view({ id: "b" })])).toMatchObject({ total: 2, working: 1, idle: 1 });
  });
});

describe("stats", () => {
  test("key: value lines, counters dotted, protocol as 1.0", () => {
    const lines = statsLines({
      type: "stats",
      version: "1.0.0",
      protocol_version: { major: 1, minor: 0 },
      pid: 42,
      counters: { messages_in: 3, errors_sent: 0 },
      cpu_percent: 0.4,
    });
    expect(lines).toEqual([
      "version: 1.0.0",
      "protocol_version: 1.0",
      "pid: 42",
      "counters.messages_in: 3",
      "counters.errors_sent: 0",
      "cpu_percent: 0.4",
    ]);
  });
});

describe("terminal rules", () => {
  test("colour only on a TTY and never with NO_COLOR non-empty", () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
  });
  test("width: terminal, else COLUMNS, else 80", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: "40" })).toBe(132);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: "40" })).toBe(40);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: "abc" })).toBe(80);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: "0" })).toBe(80);
    expect(terminalWidth({}, {})).toBe(80);
  });
});
