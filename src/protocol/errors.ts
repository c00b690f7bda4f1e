// Error codes and their exact texts (PROTOCOL.md §9). Where the reference has a text, it is kept
// verbatim; `<detail>` parts are ours.

export type ErrorCode =
  | "invalid_json"
  | "bad_handshake"
  | "invalid_message"
  | "unknown_type"
  | "already_connected"
  | "version_mismatch"
  | "parse_error"
  | "registry_full"
  | "too_many_subscribers"
  | "message_too_large"
  | "too_many_connections"
  | "slow_consumer"
  | "internal_error";

export const MAX_LINE_BYTES = 1_048_576;
export const MAX_OUTBOUND_BYTES = 8_388_608;
export const MAX_SUBSCRIBERS = 64;

export const texts = {
  invalidJson: (detail: string) => `Invalid JSON: ${detail}`,
  invalidUtf8: "Invalid JSON: invalid UTF-8",
  invalidMessage: (detail: string) => `Invalid message: ${detail}`,
  expectedConnect: "Expected Connect message for handshake",
  unknownType: (type: string) => `Unknown message type: '${type}'`,
  alreadyConnected: "Already connected",
  versionMismatch: (major: number, minor: number) =>
    `Protocol version ${major}.${minor} not compatible with server version 1.0`,
  tooManySubscribers: `Too many subscribers (max: ${MAX_SUBSCRIBERS})`,
  messageTooLarge: `Message too large (max: ${MAX_LINE_BYTES} bytes)`,
  tooManyConnections: (max: number) => `Too many connections (max: ${max})`,
  slowConsumer: `Slow consumer: more than ${MAX_OUTBOUND_BYTES} bytes queued`,
  internalError: (detail: string) => `Internal error: ${detail}`,
} as const;
