// The session table of `atmd list` and `atmd watch` (DAEMON.md §6) as a pure function:
// views + width + colour flag → lines. Columns: status icon, id_short, model, context bar and
// context_display, cost, duration, activity, project/branch, tmux pane. Every line fits in
// `width` terminal cells; when the natural layout is too wide the bar goes first, then the
// free-text columns shrink, and only then is the row cut with `…`.
import type { SessionView } from "../../registry/types.ts";
import { orderSessions, projectName, type Row } from "./sessions.ts";
import { cellWidth, fit, renderSpans, sanitize, truncate, type Span } from "./text.ts";

export interface TableOptions {
  /** Terminal width in cells (each returned line is at most this wide). */
  width: number;
  /** ANSI styling (only on a TTY and without NO_COLOR; the caller decides). */
  color: boolean;
  /** Highlight sessions that need attention (the live view). */
  highlightAttention?: boolean;
}

export const BAR_CELLS = 10;
const GAP = "  ";

type Col = "icon" | "id" | "model" | "context" | "cost" | "duration" | "activity" | "project" | "pane";

const HEADERS: Record<Col, string> = {
  icon: " ",
  id: "ID",
  model: "MODEL",
  context: "CONTEXT",
  cost: "COST",
  duration: "TIME",
  activity: "ACTIVITY",
  project: "PROJECT",
  pane: "PANE",
};

const ORDER: readonly Col[] = ["icon", "id", "model", "context", "cost", "duration", "activity", "project", "pane"];
const LAST: Col = "pane";

// How far each free-text column may shrink before rows are simply cut at the edge.
const SHRINK: Partial<Record<Col, { max: number; min: number }>> = {
  activity: { max: 28, min: 8 },
  project: { max: 30, min: 8 },
  model: { max: 20, min: 8 },
};

/** The cells of one session, as plain text (sanitised), before fitting. */
interface Cells {
  row: Row;
  text: Record<Col, string>;
}

function activity(v: SessionView): string {
  return v.activity_detail ?? v.status_label;
}

function project(v: SessionView): string {
  const name = projectName(v);
  const branch = v.worktree_branch;
  if (branch === undefined || branch === "") return name;
  return name === "" ? `(${branch})` : `${name} (${branch})`;
}

function idCell(row: Row): string {
  // A discovered session's id is `pending-<pid>`: its id_short ("pending-") would make every such
  // row look alike, so the whole id is shown until Claude reports the real one.
  const id = row.view.id.startsWith("pending-") ? row.view.id : row.view.id_short;
  if (row.depth === 0) return id;
  return `${"  ".repeat(row.depth - 1)}└ ${id}`;
}

function modelCell(v: SessionView): string {
  return v.agent_type === "main" || v.agent_type === "" ? v.model : `${v.model} · ${v.agent_type}`;
}

function cellsOf(row: Row): Cells {
  const v = row.view;
  const text: Record<Col, string> = {
    icon: v.status_icon,
    id: idCell(row),
    model: modelCell(v),
    context: v.context_display,
    cost: v.cost_display,
    duration: v.duration_display,
    activity: activity(v),
    project: project(v),
    pane: v.tmux_pane ?? "",
  };
  for (const k of ORDER) text[k] = sanitize(text[k]);
  return { row, text };
}

/** The context bar: `BAR_CELLS` cells, filled in proportion to context_percentage. */
export function contextBar(pct: number): { filled: string; empty: string } {
  const p = Number.isFinite(pct) ? Math.min(100, Math.max(0, pct)) : 0;
  const n = Math.round((p / 100) * BAR_CELLS);
  return { filled: "█".repeat(n), empty: "░".repeat(BAR_CELLS - n) };
}

function statusStyle(v: SessionView): string {
  if (v.status === "attention_needed") return "1;31";
  if (v.status === "working") return "32";
  return "2";
}

function contextStyle(v: SessionView): string {
  if (v.context_critical) return "1;31";
  if (v.context_warning) return "33";
  return "";
}

interface Layout {
  widths: Record<Col, number>;
  bar: boolean;
  /** Context as the percentage only (`21.5%` of `21.5% (43K/200K)`), for narrow terminals. */
  shortContext: boolean;
}

export function shortContext(display: string): string {
  const i = display.indexOf(" (");
  return i < 0 ? display : display.slice(0, i);
}

function gapAfter(k: Col): string {
  return k === "icon" ? " " : GAP;
}

function layout(cells: readonly Cells[], width: number): Layout {
  const widths = {} as Record<Col, number>;
  for (const k of ORDER) {
    let w = cellWidth(HEADERS[k]);
    for (const c of cells) w = Math.max(w, cellWidth(c.text[k]));
    const s = SHRINK[k];
    widths[k] = s ? Math.min(w, s.max) : w;
  }
  widths.icon = 1;
  let bar = true;
  const total = (): number => {
    let t = 0;
    for (const k of ORDER) t += widths[k] + (k === LAST ? 0 : gapAfter(k).length);
    if (bar) t += BAR_CELLS + 1;
    return t;
  };
  // Narrowing steps, least useful first: the bar, then the token counts, then the free text.
  if (total() > width) bar = false;
  let short = false;
  if (total() > width) {
    short = true;
    let w = cellWidth(HEADERS.context);
    for (const c of cells) w = Math.max(w, cellWidth(shortContext(c.text.context)));
    widths.context = w;
  }
  // Shrink the free-text columns in turn, one cell at a time, down to their minimum.
  const shrinkable: Col[] = ["activity", "project", "model"];
  while (total() > width) {
    let changed = false;
    for (const k of shrinkable) {
      const min = Math.min(SHRINK[k]?.min ?? 0, widths[k]);
      if (widths[k] > min && total() > width) {
        widths[k]--;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { widths, bar, shortContext: short };
}

const RIGHT: ReadonlySet<Col> = new Set<Col>(["cost", "duration"]);

// Trailing blanks (padding before an empty last column) are dropped so rows end at their text.
function trimSpans(spans: Span[]): Span[] {
  while (spans.length > 0 && spans[spans.length - 1]!.text.trim() === "") spans.pop();
  const last = spans[spans.length - 1];
  if (last) last.text = last.text.trimEnd();
  return spans;
}

// The last column is not padded: trailing blanks would only make rows look wider than they are.
function cell(text: string, col: Col, width: number): string {
  if (col === LAST) return truncate(text, width);
  return fit(text, width, RIGHT.has(col) ? "right" : "left");
}

/** The header line and one line per session, or `No sessions.` when there are none. */
export function renderTable(views: readonly SessionView[], opts: TableOptions): string[] {
  const width = Math.max(1, Math.floor(opts.width));
  if (views.length === 0) return [renderSpans([{ text: "No sessions." }], width, opts.color)];
  const cells = orderSessions(views).map(cellsOf);
  const { widths, bar, shortContext: short } = layout(cells, width);

  const header: Span[] = [];
  for (const k of ORDER) {
    if (k !== ORDER[0]) header.push({ text: gapAfter(ORDER[ORDER.indexOf(k) - 1]!) });
    let w = widths[k];
    if (k === "context" && bar) w += BAR_CELLS + 1;
    header.push({ text: cell(HEADERS[k], k, w), style: "1" });
  }
  const lines = [renderSpans(trimSpans(header), width, opts.color)];

  for (const c of cells) {
    const v = c.row.view;
    const attention = opts.highlightAttention === true && v.status === "attention_needed";
    // In the live view a row needing attention is drawn bold throughout, its icon blinking.
    const base = attention ? "1" : "";
    const withBase = (s: string): string => [base, s].filter((x) => x !== "").join(";");
    const spans: Span[] = [];
    for (const k of ORDER) {
      if (k !== ORDER[0]) spans.push({ text: gapAfter(ORDER[ORDER.indexOf(k) - 1]!), style: base });
      const text = cell(k === "context" && short ? shortContext(c.text[k]) : c.text[k], k, widths[k]);
      if (k === "icon") {
        spans.push({ text, style: withBase(v.should_blink && attention ? `5;${statusStyle(v)}` : statusStyle(v)) });
      } else if (k === "context") {
        if (bar) {
          const b = contextBar(v.context_percentage);
          const fill = v.context_critical ? "31" : v.context_warning ? "33" : "32";
          spans.push({ text: b.filled, style: withBase(fill) });
          spans.push({ text: b.empty, style: withBase("2") });
          spans.push({ text: " ", style: base });
        }
        spans.push({ text, style: withBase(contextStyle(v)) });
      } else if (k === "activity") {
        spans.push({ text, style: withBase(v.status === "attention_needed" ? "31" : "") });
      } else if (k === "id" || k === "pane") {
        spans.push({ text, style: withBase(k === "pane" ? "2" : "") });
      } else {
        spans.push({ text, style: base });
      }
    }
    lines.push(renderSpans(trimSpans(spans), width, opts.color));
  }
  return lines;
}
