// The node:fs ProcFs (system/claude-process.ts): what the daemon's discovery reads /proc with, and
// the hook's fallback where the libc binding is unavailable (system/libc.ts).
import { readFileSync, readlinkSync } from "node:fs";
import type { ProcFs } from "./claude-process.ts";

export const nodeProcFs: ProcFs = {
  readFile(path) {
    try {
      return readFileSync(path);
    } catch {
      return null;
    }
  },
  readlink(path) {
    try {
      return readlinkSync(path);
    } catch {
      return null;
    }
  },
};
