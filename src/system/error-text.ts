// Texts for errors the user sees, shared by the daemon and the CLI (DAEMON.md §4.3, §5).

/** An error's message (or the value itself, for a non-Error throw). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A system error's code (`EACCES`), else its message: the short reason in `cannot … : <reason>`. */
export function errorCode(e: unknown): string {
  const err = e as { code?: string; message?: string } | null;
  return err?.code ?? err?.message ?? String(e);
}

/** Another atmd holds the lock or the socket; `where` is ` (PID 123)`, ` on <socket> (…)` or "". */
export function alreadyRunning(where: string): string {
  return `Daemon is already running${where}\nUse 'atmd stop' to stop it first.`;
}
