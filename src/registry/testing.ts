// An in-memory System for tests and benchmarks: a process table (start time, parent, alive or
// zombie) and a git table by working directory, both editable while a registry uses them.
import type { GitInfo } from "../system/git.ts";
import type { PidCheck, System } from "./system.ts";

export interface FakeProcess {
  startTime: number;
  ppid: number;
  zombie?: boolean;
}

export class FakeSystem implements System {
  readonly procs = new Map<number, FakeProcess>();
  readonly git = new Map<string, GitInfo>();
  gitCalls = 0;

  spawn(pid: number, ppid = 1, startTime = pid * 10): this {
    this.procs.set(pid, { startTime, ppid });
    return this;
  }

  kill(pid: number): void {
    this.procs.delete(pid);
  }

  verifyPid(pid: number): PidCheck {
    const p = this.procs.get(pid);
    return p === undefined || p.zombie === true ? { verified: false } : { verified: true, startTime: p.startTime };
  }

  async pidAlive(pid: number, startTime: number | undefined): Promise<boolean> {
    const p = this.procs.get(pid);
    if (p === undefined || p.zombie === true) return false;
    return startTime === undefined || p.startTime === startTime;
  }

  startTime(pid: number): number | undefined {
    return this.procs.get(pid)?.startTime;
  }

  parentPid(pid: number): number | undefined {
    return this.procs.get(pid)?.ppid;
  }

  resolveGit(cwd: string): GitInfo {
    this.gitCalls++;
    return { ...(this.git.get(cwd) ?? {}) };
  }

  async resolveGitAsync(cwd: string): Promise<GitInfo> {
    return this.resolveGit(cwd);
  }
}
