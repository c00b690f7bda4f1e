// Daemon log lines (DAEMON.md §9): `<timestamp> <LEVEL> <message>`, one line per event, to stderr
// (which a detached daemon has pointed at its log file). Payloads are never logged.
import { formatTimestamp, nowMs } from "./time.ts";

export type LogLevel = "error" | "warn" | "info" | "debug";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(RANK, s);
}

export class Logger {
  constructor(
    public level: LogLevel = "info",
    private readonly sink: (line: string) => void = (line) => {
      process.stderr.write(line);
    },
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  log(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    // One event, one line, plain text: messages can carry client-chosen strings (session ids,
    // client ids), so line breaks become spaces and other control characters (an ESC sequence
    // for the terminal of a foreground daemon) a `?`.
    const text = CONTROL.test(message) ? message.replace(/[\r\n]+/g, " ").replace(CONTROL_ALL, "?") : message;
    this.sink(`${formatTimestamp(nowMs())} ${level.toUpperCase()} ${text}\n`);
  }

  error(message: string): void {
    this.log("error", message);
  }
  warn(message: string): void {
    this.log("warn", message);
  }
  info(message: string): void {
    this.log("info", message);
  }
  debug(message: string): void {
    this.log("debug", message);
  }
}
