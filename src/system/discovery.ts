// Placeholder until the discovery scan lands (issue "Daemon lifecycle"): finds nothing.
import type { DiscoveredProcess } from "../registry/types.ts";

export async function scanClaudeProcesses(_opts: { signal?: AbortSignal } = {}): Promise<DiscoveredProcess[]> {
  return [];
}
