/**
 * Which cases need a byte stream, and so cannot run over WebSocket
 * (PROTOCOL.md §6: one message is one line, so there are no terminators,
 * segments, half-close or resets of the client's own to test), and which
 * need plain TCP (they use a `node:net` client, `raw_peer.ts`). A case
 * here is skipped, with its reason, when no target of the run carries what
 * it needs. In a mixed run (`--target HOST:PORT --target ws://…/ws`) it
 * runs among the clients of the targets that do, and every other case
 * spreads its clients over all of them, which proves the bridge.
 *
 * @module
 */

import { type Endpoint, isWebSocket } from "../lib/endpoint.ts";

/** What a case needs of its targets, beyond reaching them. */
export type TransportNeed = "stream" | "tcp";

const SEGMENTS = "it writes lines in pieces; a WebSocket message is whole (§6)";
const TERMINATORS =
  "it tests line terminators; WebSocket messages have none (§6)";
const RAW =
  "it uses a raw TCP client (node:net), to reset or to write without reading";

/** The cases that need more than a WebSocket target, and why. */
export const TRANSPORT_NEEDS: Readonly<
  Record<string, { need: TransportNeed; why: string }>
> = {
  "relay.slow-senders-not-merged": { need: "stream", why: SEGMENTS },
  "relay.join-mid-line": { need: "stream", why: SEGMENTS },
  "relay.after-reset": { need: "tcp", why: RAW },
  "framing.lf": { need: "stream", why: TERMINATORS },
  "framing.crlf": { need: "stream", why: TERMINATORS },
  "framing.mixed-terminators": { need: "stream", why: TERMINATORS },
  "framing.many-lines-one-segment": { need: "stream", why: SEGMENTS },
  "framing.split-segments": { need: "stream", why: SEGMENTS },
  "framing.byte-by-byte": { need: "stream", why: SEGMENTS },
  "framing.crlf-split": { need: "stream", why: SEGMENTS },
  "framing.lines-and-parts": { need: "stream", why: SEGMENTS },
  "stream.crlf-output": { need: "stream", why: TERMINATORS },
  "limits.over-limit": { need: "tcp", why: RAW },
  "limits.over-limit-policy": { need: "tcp", why: RAW },
  "limits.huge-line": { need: "tcp", why: RAW },
  "limits.huge-line-memory": { need: "stream", why: SEGMENTS },
  "limits.largest-line": { need: "tcp", why: RAW },
  "disconnect.reset": { need: "tcp", why: RAW },
  "disconnect.half-close": {
    need: "stream",
    why: "WebSocket has no half-close (§6)",
  },
  "disconnect.partial-line-close": { need: "stream", why: SEGMENTS },
  "disconnect.partial-line-reset": { need: "tcp", why: RAW },
  "disconnect.partial-line-half-close": { need: "stream", why: SEGMENTS },
  "disconnect.churn": { need: "tcp", why: RAW },
  "disconnect.churn-leak": { need: "tcp", why: RAW },
  "flood.tiny-lines-memory": { need: "tcp", why: RAW },
};

/**
 * The targets case `id` can use: all of them, or only those that carry
 * what it needs (in a mixed run, a case that needs a byte stream runs
 * among the TCP clients alone). Empty when none can.
 *
 * @example
 * ```ts
 * import { parseEndpoint } from "../lib/endpoint.ts";
 * import { targetsFor } from "./transports.ts";
 * const mixed = ["127.0.0.1:7687", "ws://127.0.0.1:7688/ws"].map(parseEndpoint);
 * console.log(targetsFor("disconnect.reset", mixed).length); // 1
 * console.log(targetsFor("relay.basic", mixed).length); // 2
 * ```
 */
export function targetsFor<T extends Partial<Pick<Endpoint, "kind">>>(
  id: string,
  targets: readonly T[],
): T[] {
  const entry = TRANSPORT_NEEDS[id];
  if (entry === undefined) return [...targets];
  return targets.filter((t) =>
    entry.need === "tcp" ? (t.kind ?? "tcp") === "tcp" : !isWebSocket(t)
  );
}

/**
 * Why case `id` cannot run against `targets` (none of them carries what
 * it needs), or `undefined` if it can.
 *
 * @example
 * ```ts
 * import { parseEndpoint } from "../lib/endpoint.ts";
 * import { transportSkip } from "./transports.ts";
 * const ws = [parseEndpoint("ws://127.0.0.1:7688/ws")];
 * console.log(transportSkip("framing.byte-by-byte", ws));
 * // "needs a TCP or TLS target: it writes lines in pieces; a WebSocket message is whole (§6)"
 * console.log(transportSkip("relay.basic", ws)); // undefined
 * ```
 */
export function transportSkip(
  id: string,
  targets: readonly Partial<Pick<Endpoint, "kind">>[],
): string | undefined {
  const entry = TRANSPORT_NEEDS[id];
  if (entry === undefined || targetsFor(id, targets).length > 0) {
    return undefined;
  }
  return entry.need === "stream"
    ? `needs a TCP or TLS target: ${entry.why}`
    : `needs a plain TCP target: ${entry.why}`;
}
