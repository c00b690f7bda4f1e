// The release build's smoke test (build/smoke.ts), run against small fake daemons written here
// (one per way to misbehave) and against the reference daemon when it is present. It does not
// compile atmd.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SmokeError, smokeTest } from "../../build/smoke.ts";

const dir = mkdtempSync(join(tmpdir(), "atmd-smoke-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A fake daemon in TypeScript, run by this bun; FAKE_MODE picks how it misbehaves.
const FAKE_DAEMON = String.raw`
const mode = process.env.FAKE_MODE ?? "good";
const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(mode === "bad-version" ? "atm 1\n" : "atmd 9.9.9\n");
  process.exit(0);
}
if (mode === "exit-at-start") { process.stderr.write("cannot start\n"); process.exit(1); }
if (mode === "never-listens") { setInterval(() => {}, 1000); }
else {
  const path = process.env.ATM_SOCKET;
  if (!path) { process.stderr.write("no ATM_SOCKET\n"); process.exit(1); }
  const server = Bun.listen({
    unix: path,
    socket: {
      data(socket, chunk) {
        for (const line of new TextDecoder().decode(chunk).split("\n")) {
          if (line === "") continue;
          const m = JSON.parse(line);
          if (m.type === "connect") socket.write('{"type":"connected","protocol_version":{"major":1,"minor":0},"client_id":"client-0"}\n');
          if (m.type === "ping") socket.write(mode === "bad-pong" ? '{"type":"pong","seq":2}\n' : JSON.stringify({ type: "pong", seq: m.seq }) + "\n");
        }
      },
      error() {},
    },
  });
  process.on("SIGTERM", () => {
    if (mode === "ignore-term") return;
    if (mode !== "leave-socket") server.stop(true);
    process.exit(mode === "exit-1" ? 1 : 0);
  });
}
`;

const fakeScript = join(dir, "fake-daemon.ts");
writeFileSync(fakeScript, FAKE_DAEMON);

/** An executable that runs the fake daemon in the given mode. */
function fake(mode: string): string {
  const path = join(dir, `atmd-${mode}`);
  writeFileSync(path, `#!/bin/sh\nFAKE_MODE=${mode} exec '${process.execPath}' '${fakeScript}' "$@"\n`, {
    mode: 0o755,
  });
  return path;
}

const fast = { startTimeoutMs: 3000, stepTimeoutMs: 3000 } as const;

async function failure(binary: string, options: Parameters<typeof smokeTest>[1] = fast): Promise<SmokeError> {
  try {
    await smokeTest(binary, options);
  } catch (err) {
    expect(err).toBeInstanceOf(SmokeError);
    return err as SmokeError;
  }
  throw new Error("smoke test passed but should have failed");
}

describe("smokeTest", () => {
  test("a well-behaved daemon passes: version, connected, pong, exit 0, socket gone", async () => {
    const lines: string[] = [];
    const r = await smokeTest(fake("good"), { ...fast, expectVersion: "9.9.9", log: (l) => lines.push(l) });
    expect(r.versionLine).toBe("atmd 9.9.9");
    expect(r.replies[1]).toBe('{"type":"pong","seq":1}');
    expect(lines).toEqual([
      "--version: atmd 9.9.9",
      expect.stringMatching(/^socket up after \d+ ms$/),
      'ping: {"type":"pong","seq":1}',
      "SIGTERM: exit 0, socket removed",
    ]);
  });

  test("wrong --version output", async () => {
    expect((await failure(fake("bad-version"))).message).toMatch(/--version printed "atm 1\\n"/);
    expect((await failure(fake("good"), { ...fast, expectVersion: "1.0.0" })).message).toMatch(
      /expected 'atmd 1.0.0'/,
    );
  });

  test("daemon exits at start: its output is in the error", async () => {
    const err = await failure(fake("exit-at-start"));
    expect(err.message).toMatch(/daemon exited \(1\) before creating/);
    expect(err.message).toContain("cannot start");
  });

  test("daemon never creates its socket", async () => {
    const err = await failure(fake("never-listens"), { startTimeoutMs: 500, stepTimeoutMs: 2000 });
    expect(err.message).toMatch(/did not create its socket within 500 ms/);
  });

  test("wrong pong", async () => {
    expect((await failure(fake("bad-pong"))).message).toMatch(/expected \{"type":"pong","seq":1\}, got/);
  });

  test("non-zero exit after SIGTERM", async () => {
    expect((await failure(fake("exit-1"))).message).toMatch(/exited with 1 after SIGTERM/);
  });

  test("socket left behind", async () => {
    expect((await failure(fake("leave-socket"))).message).toMatch(/left its socket .* behind/);
  });

  test("SIGTERM ignored", async () => {
    const err = await failure(fake("ignore-term"), { startTimeoutMs: 3000, stepTimeoutMs: 1000 });
    expect(err.message).toMatch(/exit after SIGTERM: no result within 1000 ms/);
  });

  test("missing binary", async () => {
    expect((await failure(join(dir, "nope"))).message).toMatch(/no such file/);
  });
});

// The reference daemon speaks the same protocol; its `start` runs in the foreground.
function referenceDaemon(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  const candidates = [
    process.env.ATMD_REFERENCE_BIN,
    join(import.meta.dir, "../../../shared/reference/bin/atmd"),
  ];
  return candidates.find((p): p is string => p !== undefined && p !== "" && Bun.file(p).size > 0);
}

const reference = referenceDaemon();
if (!reference) console.warn("build-smoke: reference daemon not found, skipping its smoke test");

test.skipIf(!reference)(`the reference daemon passes the smoke test${reference ? "" : " [reference daemon not found beside the repo (../shared/reference/bin/atmd) nor in ATMD_REFERENCE_BIN]"}`, async () => {
  const r = await smokeTest(reference!, { startArgs: ["start"] });
  expect(r.versionLine).toMatch(/^atmd \d+\.\d+\.\d+/);
  expect(JSON.parse(r.replies[0] ?? "")).toMatchObject({ type: "connected" });
  expect(r.replies[1]).toBe('{"type":"pong","seq":1}');
});
