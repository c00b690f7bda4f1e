// Daemon log lines (DAEMON.md §9): `<timestamp> <LEVEL> <message>`, one line per event, to stderr
// (which a detached daemon has pointed at its log file). Payloads are never logged.
import { formatTimestamp, nowMs } from "./time.ts";

export type LogLevel = "error" | "warn" | "info" | "debug";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

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
    // One event, one line: never let a message smuggle in a line break.
    const text = message.includes("\n") ? message.replace(/[\r\n]+/g, " ") : message;
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
