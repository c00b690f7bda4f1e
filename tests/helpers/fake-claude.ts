// Fake Claude processes for the discovery tests: a temp git repo with `bin/claude` (a copy of
// sleep), processes started in their own process group, and the clean-up that kills those groups.
import type { Subprocess } from "bun";
import { copyFileSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./daemon.ts";

const procs: Subprocess[] = [];
const dirs: string[] = [];

/** A temp dir with a git repo `repo/` and a `bin/claude` that is a copy of sleep. */
export function claudeFixture(prefix: string): { dir: string; repo: string; claude: string } {
  const dir = realpathSync(tempDir(prefix));
  dirs.push(dir);
  const repo = join(dir, "repo");
  mkdirSync(repo);
  Bun.spawnSync(["git", "init", "-q", repo], { stdout: "ignore", stderr: "ignore" });
  mkdirSync(join(dir, "bin"));
  const claude = join(dir, "bin", "claude");
  copyFileSync(Bun.which("sleep") ?? "/bin/sleep", claude);
  return { dir, repo, claude };
}

/** Starts `cmd` in `cwd` as the leader of its own process group; ended by killFakes(). */
export function spawnFake(cmd: string[], cwd: string): Subprocess {
  const p = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "ignore", stderr: "ignore", detached: true });
  procs.push(p);
  return p;
}

/**
 * Kills every process spawnFake() started, by process group (so the children a shell started are
 * not orphaned and left running), and removes the fixtures' dirs.
 */
export async function killFakes(): Promise<void> {
  for (const p of procs.splice(0)) {
    try {
      process.kill(-p.pid, "SIGKILL");
    } catch {
      p.kill("SIGKILL");
    }
    await p.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Waits until /proc shows `pid` running `comm` (exec has happened). */
export async function execed(pid: number, comm: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    try {
      if ((await Bun.file(`/proc/${pid}/comm`).text()).trim() === comm) return;
    } catch {
      /* not yet */
    }
    await Bun.sleep(10);
  }
  throw new Error(`pid ${pid} never became ${comm}`);
}
