// Subscribers, keyed by connection (never by client id), and the fan-out of registry events
// (PROTOCOL.md §10). Each event is encoded once; the same bytes go to every matching subscriber,
// in one global order. A subscriber that overflows its queue is handed back to the caller to close.
import { daemon } from "../protocol/messages.ts";
import type { RegistryEvent } from "../registry/types.ts";
import type { OutboundQueue } from "./outbound.ts";

export interface Subscriber {
  readonly out: OutboundQueue;
}

const encoder = new TextEncoder();

export function encodeEvent(event: RegistryEvent): Uint8Array {
  return encoder.encode(
    event.type === "session_updated" ? daemon.sessionUpdated(event.session) : daemon.sessionRemoved(event.session_id),
  );
}

export class Broadcaster<S extends Subscriber = Subscriber> {
  /** subscriber -> filter (a session id, or null for every session) */
  private readonly subs = new Map<S, string | null>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.subs.size;
  }

  has(s: S): boolean {
    return this.subs.has(s);
  }

  /** Adds or re-filters a subscriber. The caller checks the cap for new ones. */
  add(s: S, filter: string | null): void {
    this.subs.set(s, filter);
  }

  remove(s: S): void {
    this.subs.delete(s);
  }

  /** Queues every event to every matching subscriber; returns those that overflowed. */
  publish(events: readonly RegistryEvent[], overflowLine: Uint8Array): S[] {
    const dropped: S[] = [];
    if (this.subs.size === 0) return dropped;
    for (const event of events) {
      const id = event.type === "session_updated" ? event.session.id : event.session_id;
      const bytes = encodeEvent(event);
      for (const [s, filter] of this.subs) {
        if (filter !== null && filter !== id) continue;
        if (s.out.enqueue(bytes, overflowLine) === "overflow") dropped.push(s);
      }
    }
    // Removing after the loop: overflowed subscribers get nothing more in this batch anyway
    // (their queue refuses everything after the overflow line).
    for (const s of dropped) this.subs.delete(s);
    return dropped;
  }
}
