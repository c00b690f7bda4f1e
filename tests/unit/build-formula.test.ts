// Homebrew formula rendering (build/lib.ts + packaging/homebrew/atmd.rb.tmpl). `brew` isn't
// available here: the rendered formula is checked as text, with `ruby -c`, and by loading it under
// a stub `Formula` DSL that records which url/sha256 each os/arch combination ends up with.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FORMULA_TARGETS,
  archiveName,
  formatSha256Sums,
  formulaSha256s,
  formulaVars,
  parseSha256Sums,
  renderFormula,
  renderTemplate,
  type FormulaTargetName,
} from "../../build/lib.ts";

const TEMPLATE = readFileSync(join(import.meta.dir, "../../packaging/homebrew/atmd.rb.tmpl"), "utf8");
const VERSION = "1.2.3";
const BASE = "https://example.test/releases/v1.2.3";

/** A distinct, recognisable sha256 per target. */
const SHA: Record<FormulaTargetName, string> = {
  "darwin-arm64": "da".repeat(32),
  "darwin-x64": "d6".repeat(32),
  "linux-arm64": "1a".repeat(32),
  "linux-x64": "16".repeat(32),
};

const rendered = renderFormula(TEMPLATE, { version: VERSION, baseUrl: BASE, sha256: SHA });

/** The body of the first `<header> do` block at or after `from`, up to its `end` at the same
 * indentation. */
function block(text: string, header: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === `${header} do`);
  if (start < 0) throw new Error(`no '${header} do' block`);
  const indent = lines[start]!.length - lines[start]!.trimStart().length;
  const end = lines.findIndex((l, i) => i > start && l === `${" ".repeat(indent)}end`);
  if (end < 0) throw new Error(`'${header} do' block has no end`);
  return lines.slice(start + 1, end).join("\n");
}

const ruby = Bun.which("ruby");
if (!ruby) {
  console.warn(
    "build-formula tests: ruby is not installed, skipping `ruby -c` and the DSL check (apt-get install -y ruby)",
  );
}

describe("renderTemplate", () => {
  test("replaces every placeholder", () => {
    expect(renderTemplate("a {{X}} b {{Y_2}} {{X}}", { X: "1", Y_2: "2" })).toBe("a 1 b 2 1");
  });

  test("a placeholder without a value, an unused value or a malformed placeholder is an error", () => {
    expect(() => renderTemplate("{{X}} {{Y}}", { X: "1" })).toThrow(/\{\{Y\}\} has no value/);
    expect(() => renderTemplate("{{X}}", { X: "1", Z: "3" })).toThrow(/does not use Z/);
    expect(() => renderTemplate("{{x}}", {})).toThrow(/malformed placeholder \{\{x\}\}/);
  });
});

describe("formula", () => {
  test("no placeholder is left and the version is set", () => {
    expect(rendered).not.toContain("{{");
    expect(rendered).toContain(`version "${VERSION}"`);
    expect(rendered).toContain("class Atmd < Formula");
  });

  test("every sha256 and url sits in its own os/arch block", () => {
    const where: Record<FormulaTargetName, [string, string]> = {
      "darwin-arm64": ["on_macos", "on_arm"],
      "darwin-x64": ["on_macos", "on_intel"],
      "linux-arm64": ["on_linux", "on_arm"],
      "linux-x64": ["on_linux", "on_intel"],
    };
    for (const t of FORMULA_TARGETS) {
      const [os, arch] = where[t];
      const body = block(block(rendered, os), arch);
      expect(body).toContain(`url "${BASE}/${archiveName(VERSION, t)}"`);
      expect(body).toContain(`sha256 "${SHA[t]}"`);
      // exactly one url and one sha256 per block, and each sha256 appears once in the file
      expect(body.match(/^\s*url /gm)?.length).toBe(1);
      expect(body.match(/^\s*sha256 /gm)?.length).toBe(1);
      expect(rendered.split(SHA[t]).length - 1).toBe(1);
    }
  });

  test("install, service and test blocks", () => {
    expect(rendered).toMatch(/def install\n\s+bin\.install "atmd"\n\s+end/);
    const service = block(rendered, "service");
    expect(service).toContain('run [opt_bin/"atmd", "start", "--foreground"]');
    expect(service).toContain("keep_alive true");
    expect(service).toContain('log_path var/"log/atmd.log"');
    expect(service).toContain('error_log_path var/"log/atmd.log"');
    const t = block(rendered, "test");
    expect(t).toContain("--version");
    expect(t).toContain('"start", "--foreground"');
    expect(t).toContain('"type":"connect"');
    expect(t).toContain('"type":"ping","seq":1');
    expect(t).toContain('"pong"');
    expect(t).toContain('Process.kill("TERM", pid)');
    expect(t).toContain("refute_path_exists sock");
  });

  test("inputs are validated", () => {
    expect(() => formulaVars({ version: "1.2", baseUrl: BASE, sha256: SHA })).toThrow(/semver/);
    expect(() => formulaVars({ version: VERSION, baseUrl: 'https://x/"y', sha256: SHA })).toThrow(/base URL/);
    expect(() =>
      formulaVars({ version: VERSION, baseUrl: BASE, sha256: { ...SHA, "linux-x64": "nope" } }),
    ).toThrow(/bad sha256 for linux-x64/);
  });

  test("sha256s come from SHA256SUMS by archive name; missing archives are named", () => {
    const sums = parseSha256Sums(
      formatSha256Sums([
        ...FORMULA_TARGETS.map((t) => ({ file: archiveName(VERSION, t), sha256: SHA[t] })),
        { file: archiveName(VERSION, "linux-x64-musl"), sha256: "00".repeat(32) },
      ]),
    );
    expect(formulaSha256s(VERSION, sums)).toEqual({ ok: true, sha256: SHA });
    sums.delete(archiveName(VERSION, "darwin-x64"));
    expect(formulaSha256s(VERSION, sums)).toEqual({ ok: false, missing: [archiveName(VERSION, "darwin-x64")] });
  });

  test.skipIf(!ruby)("ruby -c accepts it", () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-formula-"));
    try {
      writeFileSync(join(dir, "atmd.rb"), rendered);
      const r = Bun.spawnSync([ruby!, "-c", join(dir, "atmd.rb")]);
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString()).toBe("Syntax OK\n");
      expect(r.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Loads the formula under a minimal stand-in for Homebrew's DSL: on_macos/on_linux/on_arm/
  // on_intel yield only for the os/arch given on the command line, and the service block is
  // evaluated against a recorder.
  const STUB = String.raw`
require "json"
require "pathname"
OS_NAME, ARCH = ARGV[1], ARGV[2]
class ServiceRecorder
  attr_reader :h
  def initialize; @h = {}; end
  def opt_bin; Pathname("/prefix/opt/atmd/bin"); end
  def var; Pathname("/prefix/var"); end
  def run(v); @h["run"] = v.map(&:to_s); end
  def keep_alive(v); @h["keep_alive"] = v; end
  def log_path(v); @h["log_path"] = v.to_s; end
  def error_log_path(v); @h["error_log_path"] = v.to_s; end
end
class Formula
  class << self
    attr_reader :rec
    def r; @rec ||= { "url" => [], "sha256" => [] }; end
    def desc(v); r["desc"] = v; end
    def homepage(v); r["homepage"] = v; end
    def version(v); r["version"] = v; end
    def license(v); r["license"] = v; end
    def url(v); r["url"] << v; end
    def sha256(v); r["sha256"] << v; end
    def on_macos; yield if OS_NAME == "darwin"; end
    def on_linux; yield if OS_NAME == "linux"; end
    def on_arm; yield if ARCH == "arm64"; end
    def on_intel; yield if ARCH == "x64"; end
    def service(&b); s = ServiceRecorder.new; s.instance_eval(&b); r["service"] = s.h; end
    def test(&b); r["test"] = !b.nil?; end
  end
end
load ARGV[0]
r = Atmd.rec
r["install"] = Atmd.method_defined?(:install)
puts JSON.generate(r)
`;

  test.skipIf(!ruby)("under a stub DSL each os/arch gets exactly its url and sha256", () => {
    const dir = mkdtempSync(join(tmpdir(), "atmd-formula-"));
    try {
      writeFileSync(join(dir, "atmd.rb"), rendered);
      writeFileSync(join(dir, "stub.rb"), STUB);
      for (const t of FORMULA_TARGETS) {
        const [os, arch] = t.split("-") as [string, string];
        const r = Bun.spawnSync([ruby!, join(dir, "stub.rb"), join(dir, "atmd.rb"), os, arch]);
        expect(r.stderr.toString()).toBe("");
        expect(r.exitCode).toBe(0);
        const got = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
        expect(got).toMatchObject({
          version: VERSION,
          license: "MIT",
          url: [`${BASE}/${archiveName(VERSION, t)}`],
          sha256: [SHA[t]],
          install: true,
          test: true,
          service: {
            run: ["/prefix/opt/atmd/bin/atmd", "start", "--foreground"],
            keep_alive: true,
            log_path: "/prefix/var/log/atmd.log",
            error_log_path: "/prefix/var/log/atmd.log",
          },
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The formula's `test do` block, run for real by a stub that provides testpath/bin/version and the
// few assertions it uses, against the reference daemon (its `start` runs in the foreground and
// knows no --foreground, so a wrapper drops that flag). Skipped without ruby or the reference.
function referenceDaemon(): string | undefined {
  const candidates = [
    process.env.ATMD_REFERENCE_BIN,
    join(import.meta.dir, "../../../shared/reference/bin/atmd"),
  ];
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  return candidates.find((p): p is string => p !== undefined && p !== "" && Bun.file(p).size > 0);
}

const reference = referenceDaemon();

const TEST_STUB = String.raw`
require "pathname"
class Formula
  class << self
    attr_reader :test_block
    def test(&b); @test_block = b; end
    def method_missing(*_args); end
    def respond_to_missing?(*_args); true; end
  end
  attr_reader :testpath, :bin, :version
  def initialize(testpath, bin, version); @testpath, @bin, @version = testpath, bin, version; end
  def shell_output(cmd, status = 0)
    out = IO.popen(cmd, &:read)
    raise "#{cmd}: exit #{$?.exitstatus}, expected #{status}" unless $?.exitstatus == status
    out
  end
  def assert(v, msg = nil); raise(msg || "assertion failed") unless v; end
  def assert_equal(exp, act, msg = nil); raise("#{msg}\nexpected #{exp.inspect}, got #{act.inspect}") unless exp == act; end
  def refute_path_exists(p, msg = nil); raise(msg || "#{p} exists") if File.exist?(p); end
end
load ARGV[0]
Atmd.new(Pathname(ARGV[1]), Pathname(ARGV[2]), ARGV[3]).instance_eval(&Atmd.test_block)
puts "formula test passed"
`;

test.skipIf(!ruby || !reference)(`the formula's test block passes against the reference daemon${
  !ruby ? " [needs ruby]" : !reference ? " [reference daemon not found beside the repo (../shared/reference/bin/atmd)]" : ""
}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "atmd-formula-"));
  try {
    const bin = join(dir, "bin");
    const testpath = join(dir, "t");
    Bun.spawnSync(["mkdir", "-p", bin, testpath]);
    writeFileSync(
      join(bin, "atmd"),
      `#!/bin/sh\nif [ "$1" = start ]; then exec '${reference}' start; fi\nexec '${reference}' "$@"\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(dir, "atmd.rb"),
      renderFormula(TEMPLATE, { version: "0.2.2", baseUrl: BASE, sha256: SHA }),
    );
    writeFileSync(join(dir, "stub.rb"), TEST_STUB);
    const r = Bun.spawnSync([ruby!, join(dir, "stub.rb"), join(dir, "atmd.rb"), testpath, bin, "0.2.2"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe("formula test passed\n");
    expect(r.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
