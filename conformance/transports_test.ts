import { deepEqual, equal, match } from "node:assert/strict";
import { parseEndpoint } from "../lib/endpoint.ts";
import { ALL_CASES } from "./cases/mod.ts";
import { targetsFor, TRANSPORT_NEEDS, transportSkip } from "./transports.ts";

Deno.test("every case the transport table names exists", () => {
  const ids = new Set(ALL_CASES.map((c) => c.id));
  deepEqual(Object.keys(TRANSPORT_NEEDS).filter((id) => !ids.has(id)), []);
});

Deno.test("transportSkip: TCP runs all; TLS skips only raw-TCP cases; WebSocket skips both kinds; a mixed run runs them on its TCP targets", () => {
  const [tcp, tls, ws] = [
    "127.0.0.1:1",
    "tls://127.0.0.1:2",
    "ws://127.0.0.1:3/ws",
  ]
    .map(parseEndpoint);
  for (const id of Object.keys(TRANSPORT_NEEDS)) {
    equal(transportSkip(id, [tcp]), undefined, id);
    match(
      transportSkip(id, [ws])!,
      /^needs a (TCP or TLS|plain TCP) target: /,
      id,
    );
    equal(transportSkip(id, [tcp, ws]), undefined, id);
    deepEqual(
      targetsFor(id, [tcp, ws, tls]),
      TRANSPORT_NEEDS[id].need === "tcp" ? [tcp] : [tcp, tls],
      id,
    );
  }
  equal(transportSkip("framing.byte-by-byte", [tls]), undefined);
  match(transportSkip("disconnect.reset", [tls])!, /plain TCP/);
  equal(transportSkip("relay.exactly-once", [ws]), undefined);
});
