// The socket path rule (PROTOCOL.md §2.1), with no imports: `atmd hook` needs it without loading
// node:os / node:path (system/paths.ts re-exports it).

type Env = Record<string, string | undefined>;

export const DEFAULT_SOCKET = "/tmp/atm.sock";

/** `ATM_SOCKET` when set and non-empty, else `/tmp/atm.sock`. */
export function socketPath(env: Env = process.env): string {
  const s = env.ATM_SOCKET;
  return s !== undefined && s !== "" ? s : DEFAULT_SOCKET;
}
