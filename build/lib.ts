// Pure parts of the release build (build.ts): the target list, archive naming, the reproducible
// .tar.gz writer, the SHA256SUMS format, the Homebrew formula rendering and argument parsing.
// Nothing here touches the file system or spawns anything, so tests can import it freely.

export type Os = "linux" | "darwin";
export type Arch = "x64" | "arm64";
export type Libc = "glibc" | "musl";

export const TARGET_NAMES = [
  "linux-x64",
  "linux-arm64",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
] as const;

export type TargetName = (typeof TARGET_NAMES)[number];

export interface Target {
  /** Directory name under dist/ and the suffix of the archive name. */
  readonly name: TargetName;
  readonly os: Os;
  readonly arch: Arch;
  /** darwin targets are reported as "glibc" for want of a better word; only linux has musl. */
  readonly libc: Libc;
  /** `Bun.build({ compile: { target } })` / `bun build --target`. */
  readonly bunTarget: Bun.Build.CompileTarget;
}

export const TARGETS: readonly Target[] = [
  { name: "linux-x64", os: "linux", arch: "x64", libc: "glibc", bunTarget: "bun-linux-x64" },
  { name: "linux-arm64", os: "linux", arch: "arm64", libc: "glibc", bunTarget: "bun-linux-arm64" },
  { name: "linux-x64-musl", os: "linux", arch: "x64", libc: "musl", bunTarget: "bun-linux-x64-musl" },
  {
    name: "linux-arm64-musl",
    os: "linux",
    arch: "arm64",
    libc: "musl",
    bunTarget: "bun-linux-arm64-musl",
  },
  { name: "darwin-x64", os: "darwin", arch: "x64", libc: "glibc", bunTarget: "bun-darwin-x64" },
  { name: "darwin-arm64", os: "darwin", arch: "arm64", libc: "glibc", bunTarget: "bun-darwin-arm64" },
];

/** The file name of the executable inside every dist/<target>/ directory and every archive. The
 * outfile basename is embedded in the binary, so it must be the same for every target for the
 * bytes to be reproducible. */
export const BINARY_NAME = "atmd";

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

export function getTarget(name: TargetName): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`unknown target '${name}'`);
  return target;
}

/** The target that runs on this machine, from `process.platform`, `process.arch` and whether the
 * C library is musl. Throws on a platform atmd is not built for. */
export function hostTargetName(platform: string, arch: string, musl: boolean): TargetName {
  const a = arch === "x64" || arch === "arm64" ? arch : undefined;
  if (a === undefined) throw new Error(`no atmd target for architecture '${arch}'`);
  if (platform === "darwin") return `darwin-${a}`;
  if (platform === "linux") return musl ? `linux-${a}-musl` : `linux-${a}`;
  throw new Error(`no atmd target for platform '${platform}'`);
}

const VERSION_RE = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function assertVersion(version: string): string {
  if (!VERSION_RE.test(version)) throw new Error(`not a semver version: '${version}'`);
  return version;
}

/** `atmd-<version>-<target>.tar.gz` */
export function archiveName(version: string, target: TargetName): string {
  return `atmd-${assertVersion(version)}-${target}.tar.gz`;
}

/** The inverse of archiveName for this version, or undefined for any other file name. */
export function archiveTarget(version: string, fileName: string): TargetName | undefined {
  const prefix = `atmd-${version}-`;
  const suffix = ".tar.gz";
  if (!fileName.startsWith(prefix) || !fileName.endsWith(suffix)) return undefined;
  const name = fileName.slice(prefix.length, fileName.length - suffix.length);
  return isTargetName(name) ? name : undefined;
}

export function defaultReleaseBaseUrl(version: string): string {
  return `https://github.com/atmd-dev/atmd/releases/download/v${assertVersion(version)}`;
}

/** `ATMD_RELEASE_BASE_URL` (non-empty, trailing slashes dropped) or the GitHub release of this
 * version. */
export function releaseBaseUrl(version: string, env: Record<string, string | undefined>): string {
  const fromEnv = env.ATMD_RELEASE_BASE_URL;
  const base = fromEnv !== undefined && fromEnv !== "" ? fromEnv : defaultReleaseBaseUrl(version);
  return base.replace(/\/+$/, "");
}

// ---------------------------------------------------------------------------------------------
// SHA256SUMS

export interface Checksum {
  readonly file: string;
  readonly sha256: string;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

export function sha256Hex(data: Uint8Array<ArrayBuffer> | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** The `sha256sum` text format: `<64 lowercase hex>  <file name>` per line (two spaces = text
 * mode, which is what `sha256sum -c` and `shasum -a 256 -c` accept), sorted by file name, ending
 * with a newline. */
export function formatSha256Sums(entries: readonly Checksum[]): string {
  const seen = new Set<string>();
  for (const e of entries) {
    if (!SHA256_RE.test(e.sha256)) throw new Error(`bad sha256 for ${e.file}: '${e.sha256}'`);
    if (e.file === "" || /[\n\r\\/]/.test(e.file)) throw new Error(`bad file name '${e.file}'`);
    if (seen.has(e.file)) throw new Error(`duplicate file '${e.file}'`);
    seen.add(e.file);
  }
  const sorted = [...entries].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return sorted.map((e) => `${e.sha256}  ${e.file}\n`).join("");
}

export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`bad SHA256SUMS line '${line}'`);
    out.set(m[2], m[1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reproducible .tar.gz

export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
}

const BLOCK = 512;
/** GNU tar's default record size; the archive is padded to a multiple of it like `tar` does. */
const RECORD = 20 * BLOCK;

function writeString(buf: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = new TextEncoder().encode(value);
  if (bytes.length > length) throw new Error(`tar header field too long: '${value}'`);
  buf.set(bytes, offset);
}

/** NUL-terminated zero-padded octal, as ustar wants. */
function writeOctal(buf: Uint8Array, offset: number, length: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`bad tar number ${value}`);
  const text = value.toString(8).padStart(length - 1, "0");
  if (text.length > length - 1) throw new Error(`tar number ${value} does not fit ${length} bytes`);
  writeString(buf, offset, length, `${text}\0`);
}

function tarHeader(entry: TarEntry, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, 100, entry.name); // name
  writeOctal(h, 100, 8, entry.mode & 0o7777); // mode
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.data.length); // size
  writeOctal(h, 136, 12, mtime); // mtime
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = 0x30; // typeflag '0': regular file
  writeString(h, 257, 6, "ustar\0"); // magic
  writeString(h, 263, 2, "00"); // version
  writeString(h, 265, 32, "root"); // uname
  writeString(h, 297, 32, "root"); // gname
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** A POSIX ustar archive of regular files in name order with owner root:root (0:0) and a fixed
 * mtime: the same bytes for the same inputs on every machine. */
export function createTar(entries: readonly TarEntry[], mtime = 0): Uint8Array<ArrayBuffer> {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of sorted) {
    if (e.name === "" || e.name.startsWith("/") || e.name.split("/").includes("..")) {
      throw new Error(`bad tar entry name '${e.name}'`);
    }
  }
  let size = 0;
  for (const e of sorted) size += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  size += 2 * BLOCK; // end-of-archive marker
  size = Math.ceil(size / RECORD) * RECORD;
  const out = new Uint8Array(size); // zero-filled: padding and end marker come for free
  let off = 0;
  for (const e of sorted) {
    out.set(tarHeader(e, mtime), off);
    off += BLOCK;
    out.set(e.data, off);
    off += Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  return out;
}

/** gzip with a fixed header: no file name, mtime 0, OS byte 3 (Unix) whatever the host, so
 * Linux and macOS produce the same bytes (zlib writes an OS code of its own platform). */
export type GzipLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export function gzipReproducible(data: Uint8Array<ArrayBuffer>, level: GzipLevel = 9): Uint8Array<ArrayBuffer> {
  const gz = Bun.gzipSync(data, { level });
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[3] !== 0) throw new Error("unexpected gzip header");
  gz.fill(0, 4, 8); // MTIME
  gz[9] = 3; // OS = Unix
  return gz;
}

export function createTarGz(entries: readonly TarEntry[], level: GzipLevel = 9): Uint8Array<ArrayBuffer> {
  return gzipReproducible(createTar(entries), level);
}

// ---------------------------------------------------------------------------------------------
// Homebrew formula

/** The targets a Homebrew formula installs: Homebrew on Linux is glibc-based. */
export const FORMULA_TARGETS = ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64"] as const;
export type FormulaTargetName = (typeof FORMULA_TARGETS)[number];

/** The placeholder suffix for a target: `darwin-arm64` → `DARWIN_ARM64`. */
export function placeholderKey(target: TargetName): string {
  return target.toUpperCase().replace(/-/g, "_");
}

/** Replaces every `{{NAME}}` in the template. A placeholder without a value, or a value no
 * placeholder uses, is an error: a template and its renderer can't drift apart silently. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`template placeholder {{${key}}} has no value`);
    used.add(key);
    return value;
  });
  const unused = Object.keys(vars).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`template does not use ${unused.join(", ")}`);
  const left = /\{\{[^}]*\}\}/.exec(out);
  if (left) throw new Error(`template has a malformed placeholder ${left[0]}`);
  return out;
}

export interface FormulaInput {
  readonly version: string;
  /** Release download base URL, no trailing slash. */
  readonly baseUrl: string;
  readonly sha256: Readonly<Record<FormulaTargetName, string>>;
}

/** Variables for packaging/homebrew/atmd.rb.tmpl: VERSION, and URL_<T> and SHA256_<T> for each
 * formula target T (e.g. URL_DARWIN_ARM64). */
export function formulaVars(input: FormulaInput): Record<string, string> {
  const vars: Record<string, string> = { VERSION: assertVersion(input.version) };
  if (/["\\#\s]/.test(input.baseUrl)) throw new Error(`bad release base URL '${input.baseUrl}'`);
  for (const t of FORMULA_TARGETS) {
    const sha = input.sha256[t];
    if (!SHA256_RE.test(sha)) throw new Error(`bad sha256 for ${t}: '${sha}'`);
    vars[`URL_${placeholderKey(t)}`] = `${input.baseUrl}/${archiveName(input.version, t)}`;
    vars[`SHA256_${placeholderKey(t)}`] = sha;
  }
  return vars;
}

export function renderFormula(template: string, input: FormulaInput): string {
  return renderTemplate(template, formulaVars(input));
}

/** The formula's sha256s from a SHA256SUMS map, or the names of the archives it lacks. */
export function formulaSha256s(
  version: string,
  sums: ReadonlyMap<string, string>,
): { ok: true; sha256: Record<FormulaTargetName, string> } | { ok: false; missing: string[] } {
  const missing: string[] = [];
  const sha256: Partial<Record<FormulaTargetName, string>> = {};
  for (const t of FORMULA_TARGETS) {
    const sha = sums.get(archiveName(version, t));
    if (sha === undefined) missing.push(archiveName(version, t));
    else sha256[t] = sha;
  }
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, sha256: sha256 as Record<FormulaTargetName, string> };
}

// ---------------------------------------------------------------------------------------------
// Command line

export interface BuildOptions {
  /** Targets to compile (and archive); every target when none was named. */
  readonly targets: readonly TargetName[];
  readonly skipSmoke: boolean;
  /** Don't compile: archive the binaries already in dist/ (after re-signing on macOS), then
   * rewrite SHA256SUMS and the formula. */
  readonly packageOnly: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: bun build.ts [--target <name>]... [--host] [--skip-smoke] [--package-only]

  --target <name>   build only this target (repeatable): ${TARGET_NAMES.join(", ")}
  --host            build only the target of this machine
  --skip-smoke      do not run the host binary's smoke test
  --package-only    do not compile; archive dist/<target>/atmd as it is (e.g. after codesign),
                    smoke-run the host binary, write SHA256SUMS and dist/atmd.rb
  -h, --help        print this help

env: ATMD_RELEASE_BASE_URL  download base URL in the formula
     (default https://github.com/atmd-dev/atmd/releases/download/v<version>)
`;

export function parseArgs(argv: readonly string[], host: TargetName): BuildOptions {
  const targets: TargetName[] = [];
  let skipSmoke = false;
  let packageOnly = false;
  let help = false;
  const add = (name: string): void => {
    if (!isTargetName(name)) {
      throw new Error(`unknown target '${name}' (known: ${TARGET_NAMES.join(", ")})`);
    }
    if (!targets.includes(name)) targets.push(name);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--target") {
      const value = argv[++i];
      if (value === undefined) throw new Error("--target needs a value");
      add(value);
    } else if (arg.startsWith("--target=")) {
      add(arg.slice("--target=".length));
    } else if (arg === "--host") {
      add(host);
    } else if (arg === "--skip-smoke") {
      skipSmoke = true;
    } else if (arg === "--package-only") {
      packageOnly = true;
    } else if (arg === "--help" || arg === "-h") {
      help = true;
    } else {
      throw new Error(`unknown argument '${arg}'`);
    }
  }
  const ordered = TARGET_NAMES.filter((t) => targets.length === 0 || targets.includes(t));
  return { targets: ordered, skipSmoke, packageOnly, help };
}

export function formatBytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
