// Terminal helpers for the client commands (DAEMON.md §6 output rules) and the live `watch` view:
// colour and width decisions, and a full-screen session (alternate screen, hidden cursor, raw
// keys, resize) that puts the terminal back on every way out — q, Ctrl-C, signals, exceptions,
// plain process exit.
import { errorMessage } from "../system/error-text.ts";

type Env = Record<string, string | undefined>;

interface MaybeTty {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/** ANSI styling only when the stream is a TTY and NO_COLOR is unset or empty. */
export function useColor(stream: MaybeTty = process.stdout, env: Env = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return n > 0 ? n : undefined;
}

/** The terminal's width, else `COLUMNS`, else 80. */
export function terminalWidth(stream: MaybeTty = process.stdout, env: Env = process.env): number {
  if (stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0) return stream.columns;
  return positiveInt(env.COLUMNS) ?? 80;
}

/** The terminal's height, else `LINES`, else 24. */
export function terminalHeight(stream: MaybeTty = process.stdout, env: Env = process.env): number {
  if (stream.isTTY === true && typeof stream.rows === "number" && stream.rows > 0) return stream.rows;
  return positiveInt(env.LINES) ?? 24;
}

const ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"; // alternate screen, hide cursor, clear
const LEAVE = "\x1b[0m\x1b[?25h\x1b[?1049l"; // reset style, show cursor, main screen

/**
 * A full-screen session on stdout. `enter()` switches to the alternate screen and (when stdin is a
 * TTY) raw mode; `leave()` undoes both and is safe to call any number of times, from any exit path.
 */
export class FullScreen {
  private active = false;
  private rawSet = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly input: NodeJS.ReadStream = process.stdin,
  ) {}

  get width(): number {
    return terminalWidth(this.out);
  }

  get height(): number {
    return terminalHeight(this.out);
  }

  /**
   * Takes over the terminal. `onKey` gets raw input chunks; `onResize` fires on SIGWINCH;
   * `onExitRequest` fires for SIGINT/SIGTERM/SIGHUP (the caller stops and returns normally).
   */
  enter(handlers: { onKey?: (data: string) => void; onResize?: () => void; onExitRequest: () => void }): void {
    if (this.active) return;
    this.active = true;

    // The synchronous exit hook is the last line of defence: whatever ends the process, the user
    // gets their shell back in a usable state.
    const onExit = (): void => this.leave();
    process.on("exit", onExit);
    this.cleanups.push(() => process.off("exit", onExit));

    const onFatal = (err: unknown): void => {
      this.leave();
      process.stderr.write(`atmd: ${errorMessage(err)}\n`);
      process.exit(1);
    };
    process.on("uncaughtException", onFatal);
    process.on("unhandledRejection", onFatal);
    this.cleanups.push(() => {
      process.off("uncaughtException", onFatal);
      process.off("unhandledRejection", onFatal);
    });

    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const h = (): void => handlers.onExitRequest();
      process.on(sig, h);
      this.cleanups.push(() => process.off(sig, h));
    }

    if (handlers.onResize) {
      const r = handlers.onResize;
      this.out.on("resize", r);
      this.cleanups.push(() => this.out.off("resize", r));
    }

    if (this.input.isTTY && typeof this.input.setRawMode === "function") {
      this.input.setRawMode(true);
      this.rawSet = true;
    }
    if (handlers.onKey) {
      const k = handlers.onKey;
      const onData = (chunk: Buffer | string): void => k(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
      this.input.on("data", onData);
      this.input.resume();
      this.cleanups.push(() => {
        this.input.off("data", onData);
        // A paused stdin no longer keeps the event loop alive, so the process can end normally.
        this.input.pause();
      });
    }

    this.out.write(ENTER);
  }

  /** Draws a frame: each line in place (cleared to its end), then clears below. */
  draw(lines: readonly string[]): void {
    if (!this.active) return;
    // Rows are already cut to the width; writing "\r\n" after the bottom row would scroll, so the
    // last row gets none.
    let frame = "\x1b[H";
    lines.forEach((line, i) => {
      frame += `${line}\x1b[0m\x1b[K${i < lines.length - 1 ? "\r\n" : ""}`;
    });
    frame += "\x1b[J";
    this.out.write(frame);
  }

  /** Restores the terminal. Idempotent; synchronous enough for the `exit` event. */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    if (this.rawSet) {
      try {
        this.input.setRawMode(false);
      } catch {
        // stdin already gone (terminal closed): nothing left to restore.
      }
      this.rawSet = false;
    }
    try {
      this.out.write(LEAVE);
    } catch {
      // stdout closed (terminal hung up): nothing left to restore.
    }
    for (const c of this.cleanups.splice(0)) c();
  }
}
