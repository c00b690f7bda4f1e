// Where things live (DAEMON.md §3, §7): the socket, the state directory and the files in it.
import { homedir } from "node:os";
import { join } from "node:path";

type Env = Record<string, string | undefined>;

export { DEFAULT_SOCKET, socketPath } from "./socket-env.ts";

export function homeDir(env: Env = process.env): string {
  const h = env.HOME;
  return h !== undefined && h !== "" ? h : homedir();
}

/** `$XDG_STATE_HOME/atm` when that is absolute, else `$HOME/.local/state/atm`. */
export function stateDir(env: Env = process.env): string {
  const x = env.XDG_STATE_HOME;
  if (x !== undefined && x.startsWith("/")) return join(x, "atm");
  return join(homeDir(env), ".local", "state", "atm");
}

/** `$XDG_CONFIG_HOME/atm` when that is absolute, else `$HOME/.config/atm`. */
export function configDir(env: Env = process.env): string {
  const x = env.XDG_CONFIG_HOME;
  if (x !== undefined && x.startsWith("/")) return join(x, "atm");
  return join(homeDir(env), ".config", "atm");
}

export interface StatePaths {
  dir: string;
  pidFile: string;
  lockFile: string;
  logFile: string;
  hookLog: string;
}

export function statePaths(env: Env = process.env): StatePaths {
  const dir = stateDir(env);
  return {
    dir,
    pidFile: join(dir, "atmd.pid"),
    lockFile: join(dir, "atmd.lock"),
    logFile: join(dir, "atm.log"),
    hookLog: join(dir, "atm-hook.log"),
  };
}
