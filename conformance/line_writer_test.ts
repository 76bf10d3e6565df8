// Both peer classes send through LineWriter: the same framing, the same
// trace events, byte for byte on the wire.

import { deepStrictEqual, equal } from "node:assert/strict";
import { connect } from "../client/chat_client.ts";
import { Peer } from "./peer.ts";
import { RawPeer } from "./raw_peer.ts";
import { TraceRecorder } from "./trace.ts";
import { lineKey, type WireStats } from "./wire_stats.ts";

/** A listener that collects what its one client writes until it closes. */
function sink(): { port: number; received: Promise<string> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = (async () => {
    const conn = await listener.accept();
    listener.close();
    return await new Response(conn.readable).text();
  })();
  return { port: (listener.addr as Deno.NetAddr).port, received };
}

async function sendAll(peer: Peer | RawPeer): Promise<void> {
  await peer.send("one");
  await peer.sendMany(["two", new Uint8Array([0x33])]);
  await peer.write("raw\r\n");
}

Deno.test("Peer and RawPeer frame, trace and write lines the same way", async () => {
  const stats: WireStats = {
    linesReceived: 0,
    lfOnlyLines: 0,
    sent: new Set(),
  };
  const traces = { peer: new TraceRecorder(), raw: new TraceRecorder() };
  const forPeer = sink();
  const peer = new Peer(
    "A",
    await connect({ hostname: "127.0.0.1", port: forPeer.port }),
    traces.peer,
    stats,
  );
  await sendAll(peer);
  peer.close();
  const forRaw = sink();
  const raw = await RawPeer.connect(
    "A",
    { hostname: "127.0.0.1", port: forRaw.port },
    traces.raw,
    1000,
  );
  await sendAll(raw);
  raw.close();
  const wire = "one\ntwo\n3\nraw\r\n";
  equal(await forPeer.received, wire);
  equal(await forRaw.received, wire);
  const sends = (trace: TraceRecorder) =>
    trace.events().filter((e) => e.event === "send").map((e) => e.data);
  deepStrictEqual(sends(traces.peer), ["one\\n", "two\\n3\\n", "raw\\r\\n"]);
  deepStrictEqual(sends(traces.raw), sends(traces.peer));
  // Only the line client remembers what it sent (history vs banner).
  equal(stats.sent!.has(lineKey(new TextEncoder().encode("two"))), true);
});
