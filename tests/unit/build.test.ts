// Pure parts of the release build (build/lib.ts): targets, names, argument parsing, SHA256SUMS and
// the reproducible .tar.gz writer. Nothing here compiles anything.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BINARY_NAME,
  TARGETS,
  TARGET_NAMES,
  archiveName,
  archiveTarget,
  createTar,
  createTarGz,
  defaultReleaseBaseUrl,
  formatSha256Sums,
  getTarget,
  hostTargetName,
  parseArgs,
  parseSha256Sums,
  releaseBaseUrl,
  sha256Hex,
} from "../../build/lib.ts";

describe("targets", () => {
  test("the six release targets, each with its bun compile target", () => {
    expect(TARGETS.map((t) => t.name)).toEqual([
      "linux-x64",
      "linux-arm64",
      "linux-x64-musl",
      "linux-arm64-musl",
      "darwin-x64",
      "darwin-arm64",
    ]);
    expect([...TARGET_NAMES]).toEqual(TARGETS.map((t) => t.name));
    for (const t of TARGETS) {
      expect<string>(t.bunTarget).toBe(`bun-${t.name}`);
      expect<string>(t.name).toBe(`${t.os}-${t.arch}${t.libc === "musl" ? "-musl" : ""}`);
      if (t.os === "darwin") expect(t.libc).toBe("glibc");
    }
    expect(getTarget("linux-arm64-musl")).toMatchObject({ os: "linux", arch: "arm64", libc: "musl" });
  });

  test("every target uses the same binary name", () => {
    expect(BINARY_NAME).toBe("atmd");
  });

  test("host target", () => {
    expect(hostTargetName("linux", "x64", false)).toBe("linux-x64");
    expect(hostTargetName("linux", "arm64", false)).toBe("linux-arm64");
    expect(hostTargetName("linux", "x64", true)).toBe("linux-x64-musl");
    expect(hostTargetName("linux", "arm64", true)).toBe("linux-arm64-musl");
    expect(hostTargetName("darwin", "arm64", false)).toBe("darwin-arm64");
    expect(hostTargetName("darwin", "x64", false)).toBe("darwin-x64");
    expect(() => hostTargetName("win32", "x64", false)).toThrow(/platform 'win32'/);
    expect(() => hostTargetName("linux", "ia32", false)).toThrow(/architecture 'ia32'/);
  });
});

describe("archive names and URLs", () => {
  test("atmd-<version>-<target>.tar.gz, and back", () => {
    expect(archiveName("0.1.0", "linux-x64")).toBe("atmd-0.1.0-linux-x64.tar.gz");
    expect(archiveName("1.2.3-rc.1", "darwin-arm64")).toBe("atmd-1.2.3-rc.1-darwin-arm64.tar.gz");
    for (const t of TARGET_NAMES) expect(archiveTarget("0.1.0", archiveName("0.1.0", t))).toBe(t);
    expect(archiveTarget("0.1.0", "atmd-0.0.9-linux-x64.tar.gz")).toBeUndefined();
    expect(archiveTarget("0.1.0", "atmd-0.1.0-windows-x64.tar.gz")).toBeUndefined();
    expect(archiveTarget("0.1.0", "SHA256SUMS")).toBeUndefined();
    expect(() => archiveName("v0.1.0", "linux-x64")).toThrow(/semver/);
    expect(() => archiveName("0.1", "linux-x64")).toThrow(/semver/);
  });

  test("release base URL: env override without trailing slash, else the GitHub release", () => {
    expect(defaultReleaseBaseUrl("0.1.0")).toBe("https://github.com/atmd-dev/atmd/releases/download/v0.1.0");
    expect(releaseBaseUrl("0.1.0", {})).toBe("https://github.com/atmd-dev/atmd/releases/download/v0.1.0");
    expect(releaseBaseUrl("0.1.0", { ATMD_RELEASE_BASE_URL: "" })).toBe(defaultReleaseBaseUrl("0.1.0"));
    expect(releaseBaseUrl("0.1.0", { ATMD_RELEASE_BASE_URL: "https://example.test/dl/" })).toBe(
      "https://example.test/dl",
    );
  });
});

describe("parseArgs", () => {
  test("no arguments: every target, smoke on", () => {
    expect(parseArgs([], "linux-x64")).toEqual({
      targets: [...TARGET_NAMES],
      skipSmoke: false,
      packageOnly: false,
      help: false,
    });
  });

  test("--target (repeatable, both spellings), --host, in canonical order without duplicates", () => {
    const o = parseArgs(["--target", "darwin-arm64", "--host", "--target=linux-x64", "--skip-smoke"], "linux-x64");
    expect(o.targets).toEqual(["linux-x64", "darwin-arm64"]);
    expect(o.skipSmoke).toBe(true);
    expect(parseArgs(["--host"], "darwin-arm64").targets).toEqual(["darwin-arm64"]);
    expect(parseArgs(["--package-only"], "linux-x64").packageOnly).toBe(true);
    expect(parseArgs(["-h"], "linux-x64").help).toBe(true);
  });

  test("errors", () => {
    expect(() => parseArgs(["--target", "linux-riscv64"], "linux-x64")).toThrow(/unknown target 'linux-riscv64'/);
    expect(() => parseArgs(["--target"], "linux-x64")).toThrow(/needs a value/);
    expect(() => parseArgs(["--fast"], "linux-x64")).toThrow(/unknown argument '--fast'/);
  });
});

describe("SHA256SUMS", () => {
  const a = "a".repeat(64);
  const b = "0123456789abcdef".repeat(4);

  test("sha256sum format: '<hex>  <file>' lines sorted by name, trailing newline", () => {
    const text = formatSha256Sums([
      { file: "atmd-0.1.0-linux-x64.tar.gz", sha256: a },
      { file: "atmd-0.1.0-darwin-arm64.tar.gz", sha256: b },
    ]);
    expect(text).toBe(`${b}  atmd-0.1.0-darwin-arm64.tar.gz\n${a}  atmd-0.1.0-linux-x64.tar.gz\n`);
    expect(parseSha256Sums(text)).toEqual(
      new Map([
        ["atmd-0.1.0-darwin-arm64.tar.gz", b],
        ["atmd-0.1.0-linux-x64.tar.gz", a],
      ]),
    );
    expect(formatSha256Sums([])).toBe("");
  });

  test("rejects bad hashes, paths, duplicates and bad lines", () => {
    expect(() => formatSha256Sums([{ file: "x", sha256: "A".repeat(64) }])).toThrow(/bad sha256/);
    expect(() => formatSha256Sums([{ file: "x", sha256: "a".repeat(63) }])).toThrow(/bad sha256/);
    expect(() => formatSha256Sums([{ file: "dir/x", sha256: a }])).toThrow(/bad file name/);
    expect(() => formatSha256Sums([{ file: "x\ny", sha256: a }])).toThrow(/bad file name/);
    expect(() =>
      formatSha256Sums([
        { file: "x", sha256: a },
        { file: "x", sha256: b },
      ]),
    ).toThrow(/duplicate/);
    expect(() => parseSha256Sums(`${a} x\n`)).toThrow(/bad SHA256SUMS line/);
    expect(parseSha256Sums(`${a} *x\n`).get("x")).toBe(a); // binary-mode marker is accepted
  });

  test("sha256Hex", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  test("matches sha256sum -c when coreutils is there", () => {
    if (!Bun.which("sha256sum")) {
      console.warn("skipping the sha256sum -c check: sha256sum is not installed");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "atmd-build-test-"));
    try {
      const entries = ["one.tar.gz", "two.tar.gz"].map((file, i) => {
        const data = new TextEncoder().encode(`payload ${i}\n`);
        writeFileSync(join(dir, file), data);
        return { file, sha256: sha256Hex(data) };
      });
      writeFileSync(join(dir, "SHA256SUMS"), formatSha256Sums(entries));
      const r = Bun.spawnSync(["sha256sum", "-c", "--strict", "SHA256SUMS"], { cwd: dir });
      expect(r.stdout.toString()).toBe("one.tar.gz: OK\ntwo.tar.gz: OK\n");
      expect(r.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("reproducible tar.gz", () => {
  const payload = new Uint8Array(1300).map((_, i) => (i * 7) % 256);

  test("ustar layout: fixed owner, mtime and mode; 512-byte blocks; 10 KiB records", () => {
    const tar = createTar([{ name: "atmd", data: payload, mode: 0o755 }]);
    expect(tar.length % 10240).toBe(0);
    const text = (from: number, len: number): string =>
      new TextDecoder().decode(tar.subarray(from, from + len)).replace(/\0.*$/s, "");
    expect(text(0, 100)).toBe("atmd");
    expect(text(100, 8)).toBe("0000755");
    expect(text(108, 8)).toBe("0000000");
    expect(text(116, 8)).toBe("0000000");
    expect(parseInt(text(124, 12), 8)).toBe(1300);
    expect(text(136, 12)).toBe("00000000000");
    expect(String.fromCharCode(tar[156]!)).toBe("0");
    expect(text(257, 6)).toBe("ustar");
    expect(text(265, 32)).toBe("root");
    // header checksum: sum of the header bytes with the checksum field read as spaces
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : tar[i]!;
    expect(parseInt(text(148, 8), 8)).toBe(sum);
    expect(tar.subarray(512, 512 + 1300)).toEqual(payload);
    expect(tar.subarray(512 + 1300).every((b) => b === 0)).toBe(true);
  });

  test("entries come out sorted by name; bad names are refused", () => {
    const tar = createTar([
      { name: "b", data: new Uint8Array(1), mode: 0o644 },
      { name: "a", data: new Uint8Array(1), mode: 0o644 },
    ]);
    expect(tar[0]).toBe("a".charCodeAt(0));
    expect(tar[1024]).toBe("b".charCodeAt(0));
    expect(() => createTar([{ name: "/etc/x", data: payload, mode: 0o644 }])).toThrow(/bad tar entry/);
    expect(() => createTar([{ name: "../x", data: payload, mode: 0o644 }])).toThrow(/bad tar entry/);
    expect(() => createTar([{ name: "x".repeat(101), data: payload, mode: 0o644 }])).toThrow(/too long/);
  });

  test("same input, same bytes; gzip header has no mtime or name and OS = Unix", () => {
    const one = createTarGz([{ name: "atmd", data: payload, mode: 0o755 }]);
    const two = createTarGz([{ name: "atmd", data: payload.slice(), mode: 0o755 }]);
    expect(sha256Hex(one)).toBe(sha256Hex(two));
    expect([...one.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    expect(Bun.gunzipSync(one)).toEqual(createTar([{ name: "atmd", data: payload, mode: 0o755 }]));
  });

  test("system tar lists and extracts it", () => {
    if (!Bun.which("tar")) {
      console.warn("skipping the tar extraction check: tar is not installed");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "atmd-build-test-"));
    try {
      writeFileSync(join(dir, "a.tar.gz"), createTarGz([{ name: "atmd", data: payload, mode: 0o755 }]));
      const list = Bun.spawnSync(["tar", "-tzf", "a.tar.gz"], { cwd: dir });
      expect(list.exitCode).toBe(0);
      expect(list.stdout.toString()).toBe("atmd\n");
      const x = Bun.spawnSync(["tar", "-xzf", "a.tar.gz"], { cwd: dir });
      expect(x.exitCode).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, "atmd")))).toEqual(payload);
      expect(statSync(join(dir, "atmd")).mode & 0o111).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
