import { describe, expect, test } from "bun:test";
import {
  type Context,
  HOOK_EVENTS,
  type Json,
  isOwnCommand,
  parsePreservingNumbers,
  planSetup,
  planUninstall,
  quoteWord,
  serialiseJson,
  splitShellWords,
} from "../../src/integration/settings.ts";
import { rng } from "../helpers/rng.ts";

const ctx: Context = {
  atmd: "/home/u/.local/bin/atmd",
  isSelf: (w) => w === "/opt/self/bin/renamed",
  settingsPath: "/home/u/.claude/settings.json",
  savedAt: "2026-01-15T10:00:00.000000000+00:00",
};
const H = { type: "command", command: "/home/u/.local/bin/atmd hook", timeout: 5 };

function ok(o: ReturnType<typeof planSetup>) {
  if (!o.ok) throw new Error(o.error);
  return o;
}

describe("shell words and quoting", () => {
  test("split", () => {
    expect(splitShellWords("/a/atmd hook")).toEqual(["/a/atmd", "hook"]);
    expect(splitShellWords("'/my dir/atmd' hook")).toEqual(["/my dir/atmd", "hook"]);
    expect(splitShellWords('"/my dir/atmd"  statusline ')).toEqual(["/my dir/atmd", "statusline"]);
    expect(splitShellWords("/my\\ dir/atmd hook")).toEqual(["/my dir/atmd", "hook"]);
    expect(splitShellWords("'unbalanced")).toBeNull();
  });
  test("quote", () => {
    expect(quoteWord("/home/u/.local/bin/atmd")).toBe("/home/u/.local/bin/atmd");
    expect(quoteWord("/opt/a+b:c_d-e/atmd")).toBe("/opt/a+b:c_d-e/atmd");
    expect(quoteWord("/my dir/atmd")).toBe("'/my dir/atmd'");
    expect(quoteWord("/it's/atmd")).toBe("'/it'\\''s/atmd'");
    expect(splitShellWords(`${quoteWord("/it's here/atmd")} hook`)).toEqual(["/it's here/atmd", "hook"]);
  });
  test("own command rule (§12.1)", () => {
    const self = ctx.isSelf;
    expect(isOwnCommand("/x/atmd hook", "hook", self)).toBe(true);
    expect(isOwnCommand("atmd-linux-x64 hook", "hook", self)).toBe(true);
    expect(isOwnCommand("'/old place/atmd' hook", "hook", self)).toBe(true);
    expect(isOwnCommand("/opt/self/bin/renamed hook", "hook", self)).toBe(true);
    expect(isOwnCommand("/x/atmd statusline", "hook", self)).toBe(false);
    expect(isOwnCommand("/x/atmd hook --x", "hook", self)).toBe(false);
    expect(isOwnCommand("/x/other hook", "hook", self)).toBe(false);
    expect(isOwnCommand("/x/atm-hook", "hook", self)).toBe(false);
    expect(isOwnCommand(42, "hook", self)).toBe(false);
  });
});

describe("planSetup", () => {
  test("empty object: 20 events, status line, stash with null", () => {
    const o = ok(planSetup({}, null, ctx));
    expect(o.changed).toBe(true);
    const hooks = o.settings.hooks as Record<string, Json[]>;
    expect(Object.keys(hooks)).toEqual([...HOOK_EVENTS]);
    expect(hooks.PreToolUse).toEqual([{ matcher: "*", hooks: [H] }]);
    expect(hooks.PermissionRequest).toEqual([{ matcher: "*", hooks: [H] }]);
    expect(hooks.Stop).toEqual([{ hooks: [H] }]);
    expect(hooks.SessionEnd).toEqual([{ hooks: [H] }]);
    expect(o.settings.statusLine).toEqual({ type: "command", command: "/home/u/.local/bin/atmd statusline" });
    expect(o.stash).toEqual({ kind: "write", stash: { previous: null, saved_at: ctx.savedAt } });
    expect(o.summary[0]).toBe("Installed the atmd hook for 20 events.");
  });

  test("typical file (§12.8): others kept, custom status line stashed", () => {
    const before: Json = {
      model: "opus",
      hooks: { PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "~/bin/guard.sh" }] }] },
      statusLine: { type: "command", command: "~/.claude/statusline.sh", padding: 0 },
    };
    const copy = structuredClone(before);
    const o = ok(planSetup(before, null, ctx));
    expect(before).toEqual(copy); // input not mutated
    expect(Object.keys(o.settings)).toEqual(["model", "hooks", "statusLine"]);
    const hooks = o.settings.hooks as Record<string, Json[]>;
    expect(hooks.PreToolUse).toEqual([
      { matcher: "Bash", hooks: [{ type: "command", command: "~/bin/guard.sh" }] },
      { matcher: "*", hooks: [H] },
    ]);
    expect(Object.keys(hooks)[0]).toBe("PreToolUse");
    expect(JSON.stringify(o.settings.statusLine)).toBe(
      JSON.stringify({ type: "command", command: "/home/u/.local/bin/atmd statusline", padding: 0 }),
    );
    expect(o.stash).toEqual({
      kind: "write",
      stash: { previous: { type: "command", command: "~/.claude/statusline.sh", padding: 0 }, saved_at: ctx.savedAt },
    });
    expect(o.summary).toContain(
      "Status line: now 'atmd statusline'; your previous command '~/.claude/statusline.sh' still runs through it.",
    );
  });

  test("status line keys: type and command first, others in order", () => {
    const o = ok(planSetup({ statusLine: { padding: 2, command: "x.sh", refreshInterval: 5, type: "command" } }, null, ctx));
    expect(Object.keys(o.settings.statusLine as Json)).toEqual(["type", "command", "padding", "refreshInterval"]);
  });

  test("reference atm-hook handlers replaced, other handlers of the same entry kept", () => {
    const ref = { type: "command", command: "/usr/local/bin/atm-hook" };
    const other = { type: "command", command: "~/x.sh" };
    const before: Json = {
      hooks: {
        PreToolUse: [{ matcher: "*", hooks: [ref] }],
        Stop: [{ hooks: [other, ref] }],
        Custom: [{ hooks: [ref] }],
      },
      statusLine: { type: "command", command: "atm-hook", padding: 1 },
    };
    const o = ok(planSetup(before, null, ctx));
    const hooks = o.settings.hooks as Record<string, Json[]>;
    expect(hooks.PreToolUse).toEqual([{ matcher: "*", hooks: [H] }]);
    expect(hooks.Stop).toEqual([{ hooks: [other] }, { hooks: [H] }]);
    expect(hooks.Custom).toEqual([{ hooks: [ref] }]); // not an atmd event: untouched
    expect(o.settings.statusLine).toEqual({ type: "command", command: "/home/u/.local/bin/atmd statusline", padding: 1 });
    expect(o.stash).toEqual({ kind: "write", stash: { previous: null, saved_at: ctx.savedAt } });
    expect(o.summary[0]).toBe("Installed the atmd hook for 20 events (replaced atm-hook in 2).");
  });

  test("event already holding an atmd handler (any matcher, other path) is left exactly", () => {
    const entry = { matcher: "Bash", hooks: [{ type: "command", command: "/old/atmd hook" }, { type: "command", command: "atm-hook" }] };
    const o = ok(planSetup({ hooks: { PreToolUse: [entry] } }, null, ctx));
    expect((o.settings.hooks as Record<string, unknown>).PreToolUse).toEqual([entry]);
    expect(o.summary[0]).toBe("Installed the atmd hook for 19 events.");
  });

  test("idempotent: setup of setup changes nothing", () => {
    const first = ok(planSetup({ statusLine: { type: "command", command: "mine.sh" } }, null, ctx));
    const stash = first.stash.kind === "write" ? first.stash.stash : null;
    const second = ok(planSetup(first.settings, stash, { ...ctx, savedAt: "later" }));
    expect(second.changed).toBe(false);
    expect(second.settings).toEqual(first.settings);
    expect(second.stash).toEqual({ kind: "keep" });
  });

  test("unexpected shapes are refused (§12.3)", () => {
    for (const [settings, at] of [
      [{ hooks: [] }, "hooks"],
      [{ hooks: "x" }, "hooks"],
      [{ hooks: { Stop: {} } }, "hooks.Stop"],
      [{ hooks: { PreToolUse: [1] } }, "hooks.PreToolUse"],
      [{ hooks: { SessionEnd: [{ matcher: "*" }] } }, "hooks.SessionEnd"],
      [{ hooks: { SessionEnd: [{ hooks: {} }] } }, "hooks.SessionEnd"],
    ] as [Json, string][]) {
      const o = planSetup(settings, null, ctx);
      expect(o).toEqual({ ok: false, error: `atmd: unexpected content at ${at} in /home/u/.claude/settings.json; not modified.` });
    }
    // other events' odd content is none of our business
    expect(planSetup({ hooks: { Custom: "x" } }, null, ctx).ok).toBe(true);
  });

  test("disableAllHooks note", () => {
    const o = ok(planSetup({ disableAllHooks: true }, null, ctx));
    expect(o.summary.at(-1)).toBe(
      'Note: "disableAllHooks" is true in /home/u/.claude/settings.json; Claude Code runs neither hooks nor the status line.',
    );
  });
});

describe("planUninstall", () => {
  test("setup then uninstall restores the original value", () => {
    const original: Json = {
      model: "opus",
      hooks: { PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "~/bin/guard.sh" }] }] },
      statusLine: { type: "command", command: "~/.claude/statusline.sh", padding: 0 },
      other: [1, 2, { a: null }],
    };
    const s = ok(planSetup(original, null, ctx));
    const stash = s.stash.kind === "write" ? s.stash.stash : null;
    const u = ok(planUninstall(s.settings, stash, true, ctx));
    expect(u.changed).toBe(true);
    expect(u.stash).toEqual({ kind: "delete" });
    expect(JSON.stringify(u.settings)).toBe(JSON.stringify(original));
    expect(u.summary).toEqual(["Removed the atmd hook from 20 events.", "Status line: restored '~/.claude/statusline.sh'."]);
  });

  test("from an empty object back to an empty object", () => {
    const s = ok(planSetup({}, null, ctx));
    const u = ok(planUninstall(s.settings, { previous: null, saved_at: "" }, true, ctx));
    expect(u.settings).toEqual({});
    expect(u.summary).toContain("Status line: removed (there was none before atmd).");
  });

  test("keeps atm-hook and other hooks; a changed status line is left alone", () => {
    const settings: Json = {
      hooks: {
        Stop: [{ hooks: [{ type: "command", command: "atm-hook" }, { type: "command", command: "atmd hook" }] }],
        Weird: "not an array",
      },
      statusLine: { type: "command", command: "mine.sh" },
    };
    const u = ok(planUninstall(settings, { previous: { type: "command", command: "old.sh" }, saved_at: "" }, true, ctx));
    expect(u.settings).toEqual({
      hooks: { Stop: [{ hooks: [{ type: "command", command: "atm-hook" }] }], Weird: "not an array" },
      statusLine: { type: "command", command: "mine.sh" },
    });
  });

  test("nothing installed → no change", () => {
    const u = ok(planUninstall({ model: "x", hooks: { Stop: [{ hooks: [] }] } }, null, false, ctx));
    expect(u.changed).toBe(false);
  });
});

describe("reading and writing settings exactly (DAEMON.md §12.5)", () => {
  // A JSON document as text, with keys in a chosen order (a JS object would put "10" first).
  type Node = { o: [string, Node][] } | { a: Node[] } | { v: string };
  const print = (n: Node, ind = ""): string => {
    const inner = `${ind}  `;
    if ("v" in n) return n.v;
    if ("a" in n) return n.a.length === 0 ? "[]" : `[\n${n.a.map((x) => inner + print(x, inner)).join(",\n")}\n${ind}]`;
    return n.o.length === 0
      ? "{}"
      : `{\n${n.o.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${print(x, inner)}`).join(",\n")}\n${ind}}`;
  };
  const KEYS = ["10", "2", "0", "01", "-1", "1.5", "4294967295", "a", "hooks", "é", "\u0000atmd-key:3", " 7", "x\"y"];
  const VALUES = ["1", "1.0", "-0", "12345678901234567890", "1e2", '"10"', '"\\u0000atmd-key:9"', "true", "null", '"é\\n"'];

  test("keys keep their order (integer-like ones included) and numbers their spelling: 500 random documents", () => {
    const r = rng(12);
    const gen = (depth: number): Node => {
      const p = r();
      if (depth > 3 || p < 0.35) return { v: VALUES[Math.floor(r() * VALUES.length)] as string };
      if (p < 0.5) return { a: Array.from({ length: Math.floor(r() * 3) }, () => gen(depth + 1)) };
      const keys = [...new Set(Array.from({ length: Math.floor(r() * 5) }, () => KEYS[Math.floor(r() * KEYS.length)] as string))];
      return { o: keys.map((k) => [k, gen(depth + 1)] as [string, Node]) };
    };
    for (let i = 0; i < 500; i++) {
      const doc: Node = { o: (gen(0) as { o?: [string, Node][] }).o ?? [["k", { v: "1" }]] };
      const text = `${print(doc)}\n`;
      expect(serialiseJson(parsePreservingNumbers(text))).toBe(text);
    }
  });

  test('"\\u0031" is the key "1" and keeps its place; a syntax error is JSON.parse\'s own', () => {
    expect(serialiseJson(parsePreservingNumbers('{"b":1,"\\u0031":2}'))).toBe('{\n  "b": 1,\n  "1": 2\n}\n');
    for (const bad of ['{"1": }', '{"a":1,}', '{"10": "x"']) {
      let want = "";
      try {
        JSON.parse(bad);
      } catch (e) {
        want = (e as Error).message;
      }
      expect(() => parsePreservingNumbers(bad)).toThrow(want);
    }
  });

  test("planning sees the keys it looks for; other keys keep their order through setup", () => {
    const old = parsePreservingNumbers('{"env":{"2":"b","1":"a"},"10":true,"model":"opus"}') as Json;
    const plan = planSetup(old, null, ctx);
    if (!plan.ok) throw new Error(plan.error);
    const out = serialiseJson(plan.settings);
    expect(out.indexOf('"2": "b"')).toBeLessThan(out.indexOf('"1": "a"'));
    expect(out.indexOf('"10": true')).toBeLessThan(out.indexOf('"model"'));
    expect(out.indexOf('"model"')).toBeLessThan(out.indexOf('"hooks"'));
  });
});
