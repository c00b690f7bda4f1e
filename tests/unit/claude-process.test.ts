import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  isClaudeCommand,
  isClaudePath,
  isClaudeProcess,
  outermostClaude,
  type ProcFs,
  parsePs,
  readStat,
  walkOutermost,
} from "../../src/system/claude-process.ts";
import { libc } from "../../src/system/libc.ts";
import { nodeProcFs } from "../../src/system/procfs-node.ts";

describe("is-claude-path (SESSIONS.md §12.1)", () => {
  test.each([
    ["claude", true],
    ["/usr/local/bin/claude", true],
    ["/home/u/.local/share/claude/versions/2.0.30", true],
    ["claude-code", false],
    ["/opt/claude/bin/node", false],
    ["/usr/bin/sh", false],
    ["", false],
  ])("%p → %p", (p, want) => {
    expect(isClaudePath(p)).toBe(want);
  });
  test("macOS command rule", () => {
    expect(isClaudeCommand("/Users/u/.local/bin/claude")).toBe(true);
    expect(isClaudeCommand("claude")).toBe(true);
    expect(isClaudeCommand("/bin/zsh")).toBe(false);
  });
});

describe("walk", () => {
  // 10 → 9 → … ; claude at 8 and 5 (outermost 5)
  const table = new Map<number, { claude: boolean; ppid: number }>();
  for (let p = 2; p <= 40; p++) table.set(p, { claude: p === 8 || p === 5, ppid: p - 1 });
  table.set(2, { claude: false, ppid: 1 });
  const lookup = (pid: number) => table.get(pid) ?? null;

  test("outermost Claude wins", () => {
    expect(walkOutermost(10, lookup)).toBe(5);
  });
  test("at most 15 processes are examined", () => {
    expect(walkOutermost(20, lookup)).toBe(8); // 20..6 examined → 8 seen, 5 not
    expect(walkOutermost(19, lookup)).toBe(5);
  });
  test("stops at an unreadable process", () => {
    const t = (pid: number) => (pid === 7 ? null : lookup(pid));
    expect(walkOutermost(10, t)).toBe(8);
  });
  test("none → null; never examines pid 1", () => {
    expect(walkOutermost(4, lookup)).toBe(null);
    expect(walkOutermost(1, () => ({ claude: true, ppid: 0 }))).toBe(null);
  });
  test("ps parsing", () => {
    const t = parsePs("  1     0 /sbin/launchd\n 500   1 /Applications/Foo Bar.app/x\n 600 500 claude\n");
    expect(t.get(500)).toEqual({ ppid: 1, comm: "/Applications/Foo Bar.app/x" });
    expect(t.get(600)).toEqual({ ppid: 500, comm: "claude" });
  });
});

// The same rule through both readers: node:fs (discovery) and libc through FFI (the hook).
const readers: [string, ProcFs | null][] = [
  ["node:fs", nodeProcFs],
  ["libc", libc()],
];

describe.if(process.platform === "linux").each(readers)("Linux /proc through %s", (_name, maybeFs) => {
  const fs = maybeFs as ProcFs;
  test("the reader is available", () => {
    expect(maybeFs).not.toBeNull();
  });

  let dir = "";
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = "";
  });

  test("readStat on self", () => {
    const st = readStat(fs, process.pid);
    expect(st?.ppid).toBe(process.ppid);
  });

  test("a copy of sh named claude is found as the outermost Claude of its child", async () => {
    dir = mkdtempSync(join(tmpdir(), "atmd-cp-"));
    const claude = join(dir, "claude");
    copyFileSync("/bin/sh", claude);
    // claude (sh) → sleep: the sleep's parent is the claude process
    const p = Bun.spawn([claude, "-c", "sleep 5 & echo $!; wait"], { stdout: "pipe" });
    const reader = p.stdout.getReader();
    const { value } = await reader.read();
    const child = Number(new TextDecoder().decode(value).trim());
    // The forked child is a copy of "claude" until it has exec'd sleep: wait for that.
    const deadline = performance.now() + 5000;
    while (readFileSync(`/proc/${child}/comm`, "utf8").trim() !== "sleep" && performance.now() < deadline) {
      await Bun.sleep(5);
    }
    try {
      expect(isClaudeProcess(fs, p.pid)).toBe(true); // comm == claude
      expect(isClaudeProcess(fs, child)).toBe(false);
      expect(outermostClaude(fs, child)).toBe(p.pid);
      expect(readStat(fs, child)?.ppid).toBe(p.pid);
    } finally {
      process.kill(child);
      p.kill();
      await p.exited;
    }
  });

  test("argv[0] rule: a process whose argv[0] ends with /claude", async () => {
    // exec -a sets argv[0]; comm stays `sleep`.
    const p = Bun.spawn(["bash", "-c", "exec -a /opt/x/claude sleep 5"]);
    await Bun.sleep(100);
    try {
      expect(readStat(fs, p.pid)?.comm).toBe("sleep");
      expect(isClaudeProcess(fs, p.pid)).toBe(true);
    } finally {
      p.kill();
      await p.exited;
    }
  });

  test("no Claude ancestor → null; unreadable pid → false", () => {
    expect(outermostClaude(fs, process.pid)).toBe(null);
    expect(isClaudeProcess(fs, 2 ** 22 + 12345)).toBe(false);
  });
});
