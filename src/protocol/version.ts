// The protocol version every line carries (PROTOCOL.md §3), and the start of a line in the exact
// bytes atmd writes it, for the callers that build lines by hand (the hook, tmux-status). No
// imports: the hook's hot path uses it.

export const PROTOCOL_VERSION = { major: 1, minor: 0 } as const;

/** `{"protocol_version":{"major":1,"minor":0},"type":` */
export const LINE_HEAD = `{"protocol_version":${JSON.stringify(PROTOCOL_VERSION)},"type":`;
