// `atmd setup` / `atmd uninstall` on real files in a temp HOME (DAEMON.md §12).
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, tempDir } from "../helpers/daemon.ts";

function home(): { dir: string; env: Record<string, string>; settings: string; stash: string; launcher: string } {
  const dir = tempDir("atmd-setup-");
  const h = join(dir, "home");
  mkdirSync(h);
  return {
    dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h },
    settings: join(h, ".claude", "settings.json"),
    stash: join(h, ".config", "atm", "statusline.json"),
    // Run from source, setup points Claude Code at a launcher script beside the stash.
    launcher: join(h, ".config", "atm", "bin", "atmd"),
  };
}

function atmd(env: Record<string, string>, ...args: string[]) {
  const r = Bun.spawnSync([BUN, MAIN, ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const TYPICAL = `{
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [ { "type": "command", "command": "~/bin/guard.sh" } ] }
    ],
    "Stop": [ { "hooks": [ { "type": "command", "command": "notify-send done", "timeout": 10 } ] } ]
  },
  "statusLine": { "type": "command", "command": "~/.claude/statusline.sh", "padding": 0 }
}
`;

const backups = (settings: string) =>
  readdirSync(join(settings, "..")).filter((f) => f.startsWith("settings.json.atm-backup-"));

describe("atmd setup", () => {
  test("no file: created (0600), stash written with previous null, no backup", () => {
    const h = home();
    const r = atmd(h.env, "setup");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Installed the atmd hook for 20 events.");
    const s = JSON.parse(readFileSync(h.settings, "utf8"));
    expect(Object.keys(s.hooks)).toHaveLength(20);
    expect(s.hooks.PreToolUse[0].hooks[0]).toEqual({ type: "command", command: `${h.launcher} hook`, timeout: 5 });
    // The launcher runs this atmd without bun on PATH.
    const v = Bun.spawnSync([h.launcher, "--version"], { env: { PATH: "/usr/bin:/bin" }, stdout: "pipe" });
    expect(v.exitCode).toBe(0);
    expect(v.stdout.toString()).toMatch(/^atmd \d+\.\d+\.\d+/);
    expect(statSync(h.launcher).mode & 0o777).toBe(0o700);
    expect(s.statusLine).toEqual({ type: "command", command: `${h.launcher} statusline` });
    expect(statSync(h.settings).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.settings, "..")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(h.stash, "utf8")).previous).toBeNull();
    expect(statSync(h.stash).mode & 0o777).toBe(0o600);
    expect(backups(h.settings)).toHaveLength(0);
    expect(readFileSync(h.settings, "utf8").endsWith("}\n")).toBe(true);
  });

  test("empty object, twice == once; uninstall gives {} back", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, "{}", { mode: 0o640 });
    expect(atmd(h.env, "setup").code).toBe(0);
    const once = readFileSync(h.settings, "utf8");
    const stashOnce = readFileSync(h.stash, "utf8");
    expect(statSync(h.settings).mode & 0o777).toBe(0o640);
    expect(backups(h.settings)).toHaveLength(1);
    const again = atmd(h.env, "setup");
    expect(again).toMatchObject({ code: 0, stdout: `atmd is already set up in ${h.settings}; nothing to change.\n` });
    expect(readFileSync(h.settings, "utf8")).toBe(once);
    expect(readFileSync(h.stash, "utf8")).toBe(stashOnce);
    expect(backups(h.settings)).toHaveLength(1);
    const u = atmd(h.env, "uninstall");
    expect(u.code).toBe(0);
    expect(JSON.parse(readFileSync(h.settings, "utf8"))).toEqual({});
    expect(existsSync(h.stash)).toBe(false);
    expect(atmd(h.env, "uninstall").stdout).toBe(`atmd is not installed in ${h.settings}; nothing to change.\n`);
  });

  test("other tools' hooks and a custom status line: kept, chained, restored byte-equal in value", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, TYPICAL);
    const r = atmd(h.env, "setup");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Backed up .*settings\.json to .*settings\.json\.atm-backup-\d{8}T\d{6}Z\n/);
    expect(r.stdout).toContain("Status line: now 'atmd statusline'; your previous command '~/.claude/statusline.sh' still runs through it.\n");
    expect(r.stdout).toContain("New Claude Code sessions pick this up; restart running sessions to be sure.\n");
    const [b] = backups(h.settings);
    expect(readFileSync(join(h.settings, "..", b as string), "utf8")).toBe(TYPICAL);
    const s = JSON.parse(readFileSync(h.settings, "utf8"));
    expect(s.model).toBe("opus");
    expect(s.hooks.PreToolUse[0].hooks[0].command).toBe("~/bin/guard.sh");
    expect(s.hooks.Stop[0].hooks[0].command).toBe("notify-send done");
    expect(s.hooks.Stop).toHaveLength(2);
    expect(s.statusLine).toEqual({ type: "command", command: `${h.launcher} statusline`, padding: 0 });
    expect(JSON.parse(readFileSync(h.stash, "utf8")).previous).toEqual({ type: "command", command: "~/.claude/statusline.sh", padding: 0 });
    const u = atmd(h.env, "uninstall");
    expect(u.stdout).toContain("Removed the atmd hook from 20 events.\nStatus line: restored '~/.claude/statusline.sh'.\n");
    expect(JSON.parse(readFileSync(h.settings, "utf8"))).toEqual(JSON.parse(TYPICAL));
    expect(JSON.stringify(JSON.parse(readFileSync(h.settings, "utf8")))).toBe(JSON.stringify(JSON.parse(TYPICAL)));
    expect(backups(h.settings)).toHaveLength(2);
  });

  test("entries of another atmd (moved binary, older install) are kept, and setup says how to switch", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    const gone = join(h.dir, "old", "atmd");
    const before = {
      hooks: { Stop: [{ hooks: [{ type: "command", command: `${gone} hook`, timeout: 5 }] }] },
      statusLine: { type: "command", command: `${gone} statusline` },
    };
    writeFileSync(h.settings, JSON.stringify(before));
    const r = atmd(h.env, "setup");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Installed the atmd hook for 19 events.");
    expect(r.stdout).toContain(`Note: atmd entries already in ${h.settings} run ${gone} (missing), not ${h.launcher}; setup keeps them.\n`);
    // From source the launcher is rewritten by setup: the advice names bun and the entry script.
    expect(r.stdout).toContain(`To switch them to this atmd, run: ${BUN} ${MAIN} uninstall && ${BUN} ${MAIN} setup\n`);
    const s = JSON.parse(readFileSync(h.settings, "utf8"));
    expect(s.hooks.Stop).toEqual(before.hooks.Stop); // §12.3: left exactly as it is
    expect(s.statusLine).toEqual(before.statusLine);
    // Nothing else to change: the note still comes, after "already set up"; dry-run puts it on stderr.
    const again = atmd(h.env, "setup");
    expect(again.stdout).toStartWith(`atmd is already set up in ${h.settings}; nothing to change.\nNote: atmd entries`);
    const dry = atmd(h.env, "setup", "--dry-run");
    expect(dry.stdout).toBe("No changes.\n");
    expect(dry.stderr).toContain(`run ${gone} (missing)`);
    // The advice works: uninstall + setup leave only this atmd's entries.
    expect(atmd(h.env, "uninstall").code).toBe(0);
    expect(atmd(h.env, "setup").stdout).not.toContain("Note:");
    const after = JSON.parse(readFileSync(h.settings, "utf8"));
    expect(after.hooks.Stop).toEqual([{ hooks: [{ type: "command", command: `${h.launcher} hook`, timeout: 5 }] }]);
    expect(after.statusLine.command).toBe(`${h.launcher} statusline`);
  });

  test("the launcher named another way (~/, a symlink) is this atmd: no note", () => {
    const h = home();
    expect(atmd(h.env, "setup").code).toBe(0);
    const s = JSON.parse(readFileSync(h.settings, "utf8"));
    symlinkSync(h.launcher, join(h.dir, "atmd-link"));
    s.hooks.Stop[0].hooks[0].command = "~/.config/atm/bin/atmd hook";
    s.hooks.PreToolUse[0].hooks[0].command = `${join(h.dir, "atmd-link")} hook`;
    writeFileSync(h.settings, JSON.stringify(s));
    const r = atmd(h.env, "setup");
    expect(r.stdout).toBe(`atmd is already set up in ${h.settings}; nothing to change.\n`);
  });

  test("uninstall takes the launcher away only when this file's entries ran it", () => {
    const h = home();
    expect(atmd(h.env, "setup").code).toBe(0);
    expect(existsSync(h.launcher)).toBe(true);
    // Another Claude Code profile without atmd: its uninstall leaves the shared launcher alone.
    const other = { ...h.env, CLAUDE_CONFIG_DIR: join(h.dir, "other") };
    const o = atmd(other, "uninstall");
    expect(o.code).toBe(0);
    expect(o.stdout).not.toContain("launcher");
    expect(existsSync(h.launcher)).toBe(true);
    const u = atmd(h.env, "uninstall");
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`Removed the launcher ${h.launcher}.\n`);
    expect(existsSync(h.launcher)).toBe(false);
    expect(existsSync(join(h.launcher, ".."))).toBe(false);
    // A file of the user's own at that path is not setup's: uninstall leaves it.
    mkdirSync(join(h.launcher, ".."), { recursive: true });
    writeFileSync(h.launcher, "#!/bin/sh\necho mine\n");
    expect(atmd(h.env, "uninstall").code).toBe(0);
    expect(readFileSync(h.launcher, "utf8")).toBe("#!/bin/sh\necho mine\n");
  });

  test("invalid JSON and non-objects are refused, file untouched", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    for (const bad of ['{"model": "opus",', "[1,2]", "null"]) {
      writeFileSync(h.settings, bad);
      for (const cmd of ["setup", "uninstall"]) {
        const r = atmd(h.env, cmd);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(new RegExp(`^atmd: cannot parse ${h.settings.replaceAll(".", "\\.")}: .+\\nFix the file or move it away, then run 'atmd ${cmd}' again\\.\\n$`));
        expect(readFileSync(h.settings, "utf8")).toBe(bad);
      }
      expect(atmd(h.env, "setup", "--dry-run").code).toBe(1);
    }
    expect(backups(h.settings)).toHaveLength(0);
    expect(existsSync(h.stash)).toBe(false);
  });

  test("unexpected hooks content is refused", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, '{"hooks":{"Stop":{"hooks":[]}}}');
    const r = atmd(h.env, "setup");
    expect(r).toMatchObject({ code: 1, stderr: `atmd: unexpected content at hooks.Stop in ${h.settings}; not modified.\n` });
  });

  test("--dry-run prints the diffs and writes nothing", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, TYPICAL);
    const r = atmd(h.env, "setup", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`--- ${h.settings}\n+++ ${h.settings} (after atmd setup)\n@@ `)).toBe(true);
    expect(r.stdout).toContain(`--- ${h.stash}\n+++ ${h.stash} (after atmd setup)\n@@ -0,0 +1,8 @@\n+{\n+  "previous": {\n`);
    expect(readFileSync(h.settings, "utf8")).toBe(TYPICAL);
    expect(existsSync(h.stash)).toBe(false);
    atmd(h.env, "setup");
    expect(atmd(h.env, "setup", "--dry-run").stdout).toBe("No changes.\n");
    expect(atmd(h.env, "setup", "--dry-run", "extra").code).toBe(2);
    expect(atmd(h.env, "setup", "--force").stderr).toBe("atmd: unknown option '--force' for 'setup'\nRun 'atmd --help' for usage.\n");
  });

  test("CLAUDE_CONFIG_DIR, and a symlinked settings file stays a link", () => {
    const h = home();
    const cfg = join(h.dir, "cfg");
    const real = join(h.dir, "dotfiles", "settings.json");
    mkdirSync(join(real, ".."), { recursive: true });
    mkdirSync(cfg);
    writeFileSync(real, '{"theme":"dark"}\n');
    symlinkSync(real, join(cfg, "settings.json"));
    const env = { ...h.env, CLAUDE_CONFIG_DIR: cfg };
    expect(atmd(env, "setup").code).toBe(0);
    expect(JSON.parse(readFileSync(real, "utf8")).theme).toBe("dark");
    expect(JSON.parse(readFileSync(real, "utf8")).hooks).toBeDefined();
    expect(readdirSync(cfg).some((f) => f === "settings.json")).toBe(true);
    expect(lstatSync(join(cfg, "settings.json")).isSymbolicLink()).toBe(true);
    expect(existsSync(h.settings)).toBe(false);
  });

  test("a dangling settings symlink: the file is created at its target and the link stays", () => {
    const h = home();
    const real = join(h.dir, "dotfiles", "claude", "settings.json"); // directory not there yet
    mkdirSync(join(h.settings, ".."), { recursive: true });
    symlinkSync(real, h.settings);
    expect(atmd(h.env, "setup").code).toBe(0);
    expect(lstatSync(h.settings).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, "utf8")).hooks).toBeDefined();
  });

  test("the stash cannot be written: nothing is changed and the user's status line is not lost", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, TYPICAL);
    // A regular file where the stash directory must go makes the stash write fail.
    mkdirSync(join(h.stash, "..", ".."), { recursive: true });
    writeFileSync(join(h.stash, ".."), "in the way");
    const r = atmd(h.env, "setup");
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`atmd: cannot write ${h.stash}: `);
    expect(readFileSync(h.settings, "utf8")).toBe(TYPICAL);
    expect(backups(h.settings)).toHaveLength(0);
  });

  // Needs root to hand the files to another user and setpriv to become that user.
  test.skipIf(Bun.which("setpriv") === null || process.getuid?.() !== 0)("a read-only settings file is refused, not replaced (run as an unprivileged user)", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    writeFileSync(h.settings, TYPICAL);
    chmodSync(h.settings, 0o444);
    chownSync(h.dir, 65534, 65534);
    for (const p of [join(h.dir, "home"), join(h.settings, ".."), h.settings]) chownSync(p, 65534, 65534);
    const r = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BUN, MAIN, "setup"], {
      env: h.env,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.stderr.toString()).toStartWith(`atmd: cannot write ${h.settings}: EACCES`);
    expect(r.exitCode).toBe(1);
    expect(readFileSync(h.settings, "utf8")).toBe(TYPICAL);
    expect(existsSync(h.stash)).toBe(false); // the stash written first was taken back
  });

  test("numbers a double would change are written back exactly as they were; uninstall restores them", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    const original = `{"big": 12345678901234567890, "ratio": 1.0, "neg": -0, "exp": 1e2, "statusLine": {"type": "command", "command": "x", "padding": 0.0}}\n`;
    writeFileSync(h.settings, original);
    expect(atmd(h.env, "setup").code).toBe(0);
    const after = readFileSync(h.settings, "utf8");
    for (const lit of ['"big": 12345678901234567890', '"ratio": 1.0', '"neg": -0', '"exp": 1e2', '"padding": 0.0']) expect(after).toContain(lit);
    expect(readFileSync(h.stash, "utf8")).toContain('"padding": 0.0');
    expect(atmd(h.env, "setup").stdout).toContain("already set up"); // still idempotent
    expect(atmd(h.env, "uninstall").code).toBe(0);
    const back = readFileSync(h.settings, "utf8");
    expect(back.replace(/\s/g, "")).toBe(original.replace(/\s/g, ""));
  });

  test("integer-like keys keep their place, in the settings and in the stashed status line", () => {
    const h = home();
    mkdirSync(join(h.settings, ".."), { recursive: true });
    const original = `{
  "model": "opus",
  "env": {
    "B": "1",
    "2": "two",
    "1": "one"
  },
  "10": true,
  "statusLine": {
    "type": "command",
    "command": "x",
    "9": 1,
    "padding": 0
  }
}
`;
    writeFileSync(h.settings, original);
    expect(atmd(h.env, "setup").code).toBe(0);
    const after = readFileSync(h.settings, "utf8");
    expect(after.indexOf('"model"')).toBeLessThan(after.indexOf('"env"'));
    expect(after.indexOf('"B": "1"')).toBeLessThan(after.indexOf('"2": "two"'));
    expect(after.indexOf('"2": "two"')).toBeLessThan(after.indexOf('"1": "one"'));
    expect(after.indexOf('"env"')).toBeLessThan(after.indexOf('"10": true'));
    expect(readFileSync(h.stash, "utf8")).toContain('"command": "x",\n    "9": 1,\n    "padding": 0');
    expect(atmd(h.env, "setup").stdout).toContain("already set up");
    expect(atmd(h.env, "uninstall").code).toBe(0);
    expect(readFileSync(h.settings, "utf8")).toBe(original); // byte for byte: it was 2-space JSON already
  });
});
