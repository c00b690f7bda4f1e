// One frame of the live `atmd watch` view (DAEMON.md §6): a header with the counts and the time of
// the last change (or the outage), the session table with attention highlighted, and a key hint.
// Pure: state + terminal size → at most `height` lines, each at most `width` cells.
import type { SessionView } from "../../registry/types.ts";
import { clock } from "./lines.ts";
import { countSessions } from "./sessions.ts";
import { renderTable } from "./table.ts";
import { renderSpans, type Span } from "./text.ts";

export interface ScreenState {
  views: readonly SessionView[];
  connected: boolean;
  /** When the view last changed (a message arrived); null before the first one. */
  lastChange: Date | null;
  /** Start of the current outage while disconnected. */
  disconnectedSince: Date | null;
  /** The session id given on the command line, if any. */
  filter?: string;
}

export interface ScreenOptions {
  width: number;
  height: number;
  color: boolean;
}

function headerSpans(s: ScreenState): Span[] {
  const spans: Span[] = [{ text: "atmd watch", style: "1" }];
  if (s.filter !== undefined) spans.push({ text: ` [${s.filter}]` });
  if (!s.connected) {
    spans.push({ text: "  " });
    // No outage yet means the first connection is still being made.
    if (s.disconnectedSince === null) spans.push({ text: "connecting…", style: "2" });
    else spans.push({ text: `disconnected since ${clock(s.disconnectedSince)}; reconnecting…`, style: "1;33" });
    return spans;
  }
  const c = countSessions(s.views);
  spans.push({ text: `  ${c.total} ${c.total === 1 ? "session" : "sessions"}` });
  if (c.working > 0) spans.push({ text: ` · ${c.working} working`, style: "32" });
  if (c.attention > 0) spans.push({ text: ` · ${c.attention} needs input`, style: "1;31" });
  if (c.idle > 0) spans.push({ text: ` · ${c.idle} idle`, style: "2" });
  if (s.lastChange) spans.push({ text: `  last change ${clock(s.lastChange)}`, style: "2" });
  return spans;
}

export function renderScreen(s: ScreenState, o: ScreenOptions): string[] {
  const width = Math.max(1, Math.floor(o.width));
  const height = Math.max(1, Math.floor(o.height));
  const lines = [renderSpans(headerSpans(s), width, o.color)];
  if (height === 1) return lines;
  const footer = renderSpans([{ text: "q quit", style: "2" }], width, o.color);
  // Before the first list arrives there is nothing to show yet; "No sessions." would be a lie.
  const table = s.connected || s.views.length > 0
    ? renderTable(s.views, { width, color: o.color, highlightAttention: true })
    : [];
  const room = height - 3; // header, blank line, footer
  lines.push("");
  if (room > 0) {
    if (table.length <= room) {
      lines.push(...table);
    } else {
      lines.push(...table.slice(0, room - 1));
      lines.push(renderSpans([{ text: `… ${table.length - (room - 1)} more`, style: "2" }], width, o.color));
    }
  }
  if (lines.length < height) lines.push(footer);
  return lines.slice(0, height);
}
