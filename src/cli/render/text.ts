// Terminal text measured in cells (DAEMON.md §6 output rules): wide characters and emoji count as
// two cells, rows are cut (ending in `…`) and never wrapped. Pure; Bun.stringWidth does the
// measuring, Intl.Segmenter keeps grapheme clusters (flags, ZWJ emoji, combining marks) whole.

export const ELLIPSIS = "…";

/** Cells `text` takes in a terminal (ANSI escape sequences count as zero). */
export function cellWidth(text: string): number {
  return Bun.stringWidth(text);
}

// C0 controls, DEL and C1 controls. Session fields come from other processes (tool names, paths,
// prompts): an ESC or a newline in them must not move the cursor or inject styling.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces control characters so untrusted text cannot wrap a row or drive the terminal. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, " ");
}

let segmenter: Intl.Segmenter | undefined;

/**
 * Cuts plain text to at most `width` cells; a cut text ends in `…`. Never splits a grapheme and
 * never leaves a wide character straddling the edge (the cell is left empty instead).
 */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (cellWidth(text) <= width) return text;
  if (width === 1) return ELLIPSIS;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const budget = width - 1;
  let out = "";
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = cellWidth(segment);
    if (used + w > budget) break;
    out += segment;
    used += w;
  }
  return out + ELLIPSIS;
}

/** Pads (or cuts) plain text to exactly `width` cells. */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  const cut = truncate(text, width);
  const pad = " ".repeat(Math.max(0, width - cellWidth(cut)));
  return align === "left" ? cut + pad : pad + cut;
}

/** One styled run of a row: plain text plus the SGR parameters to draw it with. */
export interface Span {
  text: string;
  /** SGR parameters, e.g. "1;31"; empty = unstyled. */
  style?: string;
}

/**
 * Joins spans into one line of at most `width` cells (cut with `…` when longer), styling each
 * span only when `color` is set. Cutting happens on the plain text so the escapes never count.
 */
export function renderSpans(spans: readonly Span[], width: number, color: boolean): string {
  let total = 0;
  for (const s of spans) total += cellWidth(s.text);
  let out = "";
  if (total <= width) {
    for (const s of spans) out += paint(s.text, s.style, color);
    return out;
  }
  // Cut: keep whole spans while they fit in width-1 cells, then the part of the next one that does.
  let left = width;
  for (const s of spans) {
    const w = cellWidth(s.text);
    if (w < left) {
      out += paint(s.text, s.style, color);
      left -= w;
      continue;
    }
    // `truncate` ends in `…` whenever it cuts; when the span fits exactly but more follows, cut it
    // one cell shorter so the row still ends in the ellipsis.
    const part = truncate(`${s.text}${ELLIPSIS}`, left);
    out += paint(part.endsWith(ELLIPSIS) ? part : `${part}${ELLIPSIS}`, s.style, color);
    break;
  }
  return out;
}

export function paint(text: string, style: string | undefined, color: boolean): string {
  if (!color || !style || text === "") return text;
  return `\x1b[${style}m${text}\x1b[0m`;
}

const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

/** Removes CSI escape sequences (tests and width checks). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
