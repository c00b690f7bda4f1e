// The JSON-object test shared by every module that reads untyped JSON (protocol input, Claude
// Code's hook and status-line payloads, settings files).

export type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The object a JSON text holds, or null for invalid JSON and anything that is not an object. */
export function parseJsonObject(text: string): Json | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return isObject(v) ? v : null;
}
