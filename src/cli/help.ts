// `atmd --help` (DAEMON.md §5.4), exact text.
import { VERSION } from "../version.ts";

export function helpText(): string {
  return `atmd ${VERSION} - live registry of Claude Code sessions (ATM protocol 1.0)

Usage:
  atmd [start] [-d|--daemon | --foreground]   run the daemon (default: in the foreground)
  atmd stop                                   stop the running daemon
  atmd status                                 show whether the daemon is running
  atmd hook                                   Claude Code hook command (reads JSON on stdin)
  atmd statusline                             Claude Code status line command (reads JSON on stdin)
  atmd setup [--dry-run]                      install the hooks and status line into Claude Code
  atmd uninstall [--dry-run]                  remove them again
  atmd list [--json] [--status S]             print the current sessions
  atmd watch [--json | --lines] [<id>]        live view of the sessions
  atmd tmux-status [--tmux]                   one short line for tmux's status bar
  atmd stats [--json]                         print daemon statistics
  atmd --version                              print the version

Socket: $ATM_SOCKET, default /tmp/atm.sock
State:  $XDG_STATE_HOME/atm, default ~/.local/state/atm
`;
}
