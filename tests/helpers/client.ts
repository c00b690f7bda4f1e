// The tests speak to the daemon with the same line client the CLI uses.
export { LineClient, openClient, TimeoutError, ClosedError } from "../../src/transport/client.ts";

import { LineClient } from "../../src/transport/client.ts";

/** Connects without handshaking (for handshake tests). */
export function connectClient(socket: string, timeoutMs = 2000): Promise<LineClient> {
  return LineClient.connect(socket, { timeoutMs });
}
