// atmd's release version: injected by build.ts with `--define ATMD_VERSION=...`, otherwise read
// from package.json (development runs with `bun src/main.ts`).
import pkg from "../package.json" with { type: "json" };

declare const ATMD_VERSION: string | undefined;

export const VERSION: string = typeof ATMD_VERSION === "string" ? ATMD_VERSION : pkg.version;
