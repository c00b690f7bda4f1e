// system/git.ts against real repositories in temp dirs (SESSIONS.md §11): project root, linked
// worktrees through `.git` files, branches incl. detached HEAD, and the lexical walk rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitWalk, resolveGit, resolveGitAsync } from "../../src/system/git.ts";

let root = "";
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).toString().trim();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "atmd-git-"));
  const proj = join(root, "проект");
  mkdirSync(join(proj, "src", "deep"), { recursive: true });
  git(proj, "init", "-q", "-b", "main");
  git(proj, "commit", "-q", "--allow-empty", "-m", "init");
  git(proj, "worktree", "add", "-q", "-b", "feature/login", join(root, "wt"));
  mkdirSync(join(root, "detached"));
  git(join(root, "detached"), "init", "-q", "-b", "main");
  git(join(root, "detached"), "commit", "-q", "--allow-empty", "-m", "x");
  git(join(root, "detached"), "checkout", "-q", "--detach");
  mkdirSync(join(root, "plainfile"));
  writeFileSync(join(root, "plainfile", ".git"), "not a pointer\n");
  mkdirSync(join(root, "rel"));
  writeFileSync(join(root, "rel", ".git"), "gitdir: ../проект/.git/worktrees/wt\n");
  mkdirSync(join(root, "broken", "inner"), { recursive: true });
  symlinkSync(join(root, "nowhere"), join(root, "broken", "inner", ".git"));
  mkdirSync(join(root, "tag", ".git"), { recursive: true });
  writeFileSync(join(root, "tag", ".git", "HEAD"), "ref: refs/tags/v1\n");
  mkdirSync(join(root, "empty", ".git"), { recursive: true });
  writeFileSync(join(root, "empty", ".git", "HEAD"), "");
  mkdirSync(join(root, "nohead", ".git"), { recursive: true });
  mkdirSync(join(root, "nogit"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("resolveGit on real repositories", () => {
  const cases: [string, (r: string) => string, (r: string) => object][] = [
    ["top of a checkout", (r) => join(r, "проект"), (r) => ({ projectRoot: join(r, "проект"), worktreePath: join(r, "проект"), worktreeBranch: "main" })],
    ["trailing slash kept", (r) => `${join(r, "проект")}/`, (r) => ({ projectRoot: `${join(r, "проект")}/`, worktreePath: `${join(r, "проект")}/`, worktreeBranch: "main" })],
    ["subdirectory: root only", (r) => join(r, "проект", "src", "deep"), (r) => ({ projectRoot: join(r, "проект") })],
    ["`.` components are skipped", (r) => `${join(r, "проект")}/./src`, (r) => ({ projectRoot: join(r, "проект") })],
    ["linked worktree via a .git file", (r) => join(r, "wt"), (r) => ({ projectRoot: join(r, "проект"), worktreePath: join(r, "wt"), worktreeBranch: "feature/login" })],
    ["relative gitdir resolved against D", (r) => join(r, "rel"), (r) => ({ projectRoot: join(r, "rel") + "/../проект", worktreePath: join(r, "rel"), worktreeBranch: "feature/login" })],
    ["a .git file without gitdir:", (r) => join(r, "plainfile"), (r) => ({ projectRoot: join(r, "plainfile"), worktreePath: join(r, "plainfile") })],
    ["tag ref shows its first 8 code points", (r) => join(r, "tag"), (r) => ({ projectRoot: join(r, "tag"), worktreePath: join(r, "tag"), worktreeBranch: "ref: ref" })],
    ["empty HEAD", (r) => join(r, "empty"), (r) => ({ projectRoot: join(r, "empty"), worktreePath: join(r, "empty"), worktreeBranch: "" })],
    ["unreadable HEAD: no branch", (r) => join(r, "nohead"), (r) => ({ projectRoot: join(r, "nohead"), worktreePath: join(r, "nohead") })],
    ["no repository", (r) => join(r, "nogit"), () => ({})],
    ["nonexistent directory", (r) => join(r, "nope", "x"), () => ({})],
  ];
  test.each(cases)("%s", async (_name, cwd, want) => {
    const got = resolveGit(cwd(root));
    expect(got).toEqual(want(root));
    expect(await resolveGitAsync(cwd(root))).toEqual(got);
  });

  test("detached HEAD shows the short hash", () => {
    const hash = git(join(root, "detached"), "rev-parse", "HEAD");
    expect(resolveGit(join(root, "detached")).worktreeBranch).toBe(hash.slice(0, 8));
  });

  test("a broken .git symlink is passed over", () => {
    expect(resolveGit(join(root, "broken", "inner"))).toEqual({});
  });

  test("a branch change is seen on the next resolution", () => {
    const wt = join(root, "wt");
    git(wt, "checkout", "-q", "-b", "other");
    expect(resolveGit(wt).worktreeBranch).toBe("other");
    git(wt, "checkout", "-q", "feature/login");
  });

  test("hostile paths return quickly", () => {
    const t = performance.now();
    expect(resolveGit(`/${"a/".repeat(400_000)}`)).toEqual({});
    expect(resolveGit("/tmp/\0bad")).toEqual({});
    expect(performance.now() - t).toBeLessThan(2000);
  });
});

describe("gitWalk (lexical parents)", () => {
  test.each([
    ["/r/proj", ["/r/proj", "/r", "/"]],
    ["/r/proj/", ["/r/proj/", "/r", "/"]],
    ["/r/proj/./sub", ["/r/proj/./sub", "/r/proj", "/r", "/"]],
    ["/r/../x", ["/r/../x", "/r/..", "/r", "/"]],
    ["/", ["/"]],
    ["a/b", ["a/b", "a", ""]],
    ["", [""]],
    ["//r//p", ["//r//p", "/r", "/"]],
  ])("%p", (cwd, want) => {
    expect(gitWalk(cwd)).toEqual(want);
  });
});

describe("hostile files where git data should be", () => {
  test("a FIFO as HEAD neither hangs nor breaks the lookup (sync and async): no branch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-git-fifo-"));
    mkdirSync(join(dir, ".git"));
    const mk = Bun.spawnSync(["mkfifo", join(dir, ".git", "HEAD")]);
    expect(mk.exitCode).toBe(0);
    const sync = resolveGit(dir);
    expect(sync).toEqual({ projectRoot: dir, worktreePath: dir, worktreeBranch: undefined });
    const asyncInfo = await Promise.race([resolveGitAsync(dir), Bun.sleep(2000).then(() => "hung" as const)]);
    expect(asyncInfo).toEqual(sync);
  });

  test("a link to /dev/zero as HEAD is not read without end", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-git-zero-"));
    mkdirSync(join(dir, ".git"));
    symlinkSync("/dev/zero", join(dir, ".git", "HEAD"));
    expect(resolveGit(dir).worktreeBranch).toBeUndefined();
    expect((await resolveGitAsync(dir)).worktreeBranch).toBeUndefined();
  });
});
