// The registry's port to the operating system: pid verification and liveness, parent pids for
// subagent correlation, and git resolution. Unit tests pass fakes; the daemon gets `realSystem`.
// Synchronous members are used on the message path (creation, move, cwd change) and must be cheap.
import type { GitInfo } from "../system/git.ts";
import { resolveGit, resolveGitAsync } from "../system/git.ts";
import type { PidCheck } from "../system/proc.ts";
import { parentPid, pidAlive, startTime, verifyPid } from "../system/proc.ts";

export type { GitInfo, PidCheck };

export interface System {
  /** §13.1 verification at creation and on move. */
  verifyPid(pid: number): PidCheck;
  /** §13.2: false when the pid is gone, a zombie, or its start time differs from `startTime`. */
  pidAlive(pid: number, startTime: number | undefined): Promise<boolean>;
  /** Start time of a live pid, when the system can tell (Linux). */
  startTime(pid: number): number | undefined;
  /** Parent pid, when the system can tell (Linux). */
  parentPid(pid: number): number | undefined;
  resolveGit(cwd: string): GitInfo;
  resolveGitAsync(cwd: string): Promise<GitInfo>;
}

export const realSystem: System = {
  verifyPid,
  pidAlive,
  startTime,
  parentPid,
  resolveGit,
  resolveGitAsync,
};
