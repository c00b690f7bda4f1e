// `atmd watch [--json | --lines] [<session-id>]` (DAEMON.md §6): follows the daemon's broadcasts.
// On a TTY a live full-screen table; otherwise (or with --lines) one line per message; with
// --json every received line unchanged. It never exits because the daemon went away: the stream
// reconnects with back-off and subscribes again.
import type { SessionView } from "../registry/types.ts";
import { socketPath } from "../system/paths.ts";
import { failureMessage, requestOnce, SessionSet, SessionStream } from "../transport/session-stream.ts";
import { watchLine } from "./render/lines.ts";
import { renderScreen, type ScreenState } from "./render/screen.ts";
import { toView } from "./render/sessions.ts";
import { FullScreen, useColor } from "./tty.ts";
import { EXIT_FAILURE, EXIT_OK, parseArgs, usageError } from "./usage.ts";

const REDRAW_MIN_INTERVAL_MS = 50;

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs("watch", args, { flags: ["--json", "--lines"], maxPositional: 1 });
  if (typeof parsed === "number") return parsed;
  if (parsed.flags.has("--json") && parsed.flags.has("--lines")) {
    return usageError("--json and --lines cannot be used together");
  }
  const socket = socketPath();
  const given = parsed.positional[0];
  const sessionId = given === undefined ? undefined : await expandId(socket, given);
  if (parsed.flags.has("--json")) return streamText(socket, sessionId, "json");
  if (parsed.flags.has("--lines") || process.stdout.isTTY !== true) return streamText(socket, sessionId, "lines");
  return liveView(socket, sessionId);
}

/**
 * Lets `watch` take the short id `atmd list` shows: a unique prefix of a current session's id is
 * widened to the full id. Anything else is used as given (it may name a session yet to come, and
 * the filter is the daemon's), with a note on stderr when no current session has that id.
 */
async function expandId(socket: string, given: string): Promise<string> {
  let ids: string[];
  try {
    const { message } = await requestOnce(socket, "list_sessions", "session_list");
    const sessions = Array.isArray(message.sessions) ? message.sessions : [];
    ids = sessions.map((x: unknown) => (x as { id?: unknown }).id).filter((x): x is string => typeof x === "string");
  } catch {
    return given; // the stream reports the daemon's state itself
  }
  if (ids.includes(given)) return given;
  const matches = ids.filter((id) => id.startsWith(given));
  if (matches.length === 1) return matches[0] as string;
  process.stderr.write(
    matches.length > 1
      ? `atmd: '${given}' matches ${matches.length} sessions; watching the exact id '${given}' (give more of it to pick one).\n`
      : `atmd: no session '${given}' yet; waiting for it.\n`,
  );
  return given;
}

/** `--json` / `--lines`: the first connection must succeed; later outages are waited out. */
async function streamText(socket: string, sessionId: string | undefined, mode: "json" | "lines"): Promise<number> {
  const stream = new SessionStream(
    socket,
    {
      onLine(line, message) {
        if (mode === "json") {
          out(`${line}\n`);
          return;
        }
        if (message === null) return;
        if (message.type === "error") {
          process.stderr.write(`atmd: the daemon reported: ${String(message.message)}\n`);
          return;
        }
        const text = watchLine(message, new Date());
        if (text !== null) out(`${text}\n`);
      },
      onDisconnected() {
        process.stderr.write("Daemon disconnected; reconnecting.\n");
      },
    },
    sessionId === undefined ? {} : { sessionId },
  );
  try {
    await stream.open();
  } catch (e) {
    process.stderr.write(`${failureMessage(e, socket)}\n`);
    return EXIT_FAILURE;
  }
  const stop = (): void => stream.stop();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, stop);
  // The reader went away (`atmd watch --lines | head`): nothing left to do.
  process.stdout.on("error", stop);
  try {
    await stream.run();
  } finally {
    for (const s of signals) process.off(s, stop);
    process.stdout.off("error", stop);
  }
  return EXIT_OK;
}

function out(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    // EPIPE surfaces through the stream's 'error' event, which stops the stream.
  }
}

/** The full-screen view: redrawn on change (at most every 50 ms) and on resize. */
async function liveView(socket: string, sessionId: string | undefined): Promise<number> {
  const screen = new FullScreen();
  const sessions = new SessionSet<SessionView>(toView);
  const state: ScreenState = {
    views: [],
    connected: false,
    lastChange: null,
    disconnectedSince: null,
    ...(sessionId === undefined ? {} : { filter: sessionId }),
  };

  let lastDraw = 0;
  let pending: ReturnType<typeof setTimeout> | null = null;
  const draw = (): void => {
    pending = null;
    lastDraw = performance.now();
    state.views = sessions.views;
    screen.draw(renderScreen(state, { width: screen.width, height: screen.height, color: useColor() }));
  };
  const scheduleDraw = (): void => {
    if (pending !== null) return;
    pending = setTimeout(draw, Math.max(0, lastDraw + REDRAW_MIN_INTERVAL_MS - performance.now()));
  };

  const stream = new SessionStream(
    socket,
    {
      onLine(_line, message) {
        if (message === null) return;
        if (sessions.apply(message)) {
          state.lastChange = new Date();
          scheduleDraw();
        }
      },
      onConnected() {
        state.connected = true;
        state.disconnectedSince = null;
        scheduleDraw();
      },
      onDisconnected() {
        state.connected = false;
        state.disconnectedSince = new Date();
        scheduleDraw();
      },
    },
    sessionId === undefined ? {} : { sessionId },
  );

  const quit = (): void => stream.stop();
  screen.enter({
    onKey(data) {
      // q / Q, Ctrl-C (raw mode delivers it as a byte, not a signal), Ctrl-D.
      if (/[qQ\x03\x04]/.test(data)) quit();
    },
    onResize: () => scheduleDraw(),
    onExitRequest: quit,
  });
  try {
    draw();
    await stream.run();
  } catch (e) {
    screen.leave();
    process.stderr.write(`${failureMessage(e, socket)}\n`);
    return EXIT_FAILURE;
  } finally {
    if (pending !== null) clearTimeout(pending);
    screen.leave();
  }
  return EXIT_OK;
}
