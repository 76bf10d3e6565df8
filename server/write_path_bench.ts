/**
 * `deno bench`: the server's own share of a delivery, without sockets.
 * One sender's chunk is framed, encoded once, fanned out to N recipients,
 * queued, and written by the write scheduler to transports whose writes
 * complete at once (as `--transport node`'s do when the kernel takes the
 * bytes); each iteration waits until every write has started. What stays
 * is the cost of our code per delivery: the kernel's share (the write
 * system call, most of the total; see docs/performance.md) is left out.
 *
 * @module
 */

import { encodeLineFrames } from "../protocol/websocket_frames.ts";
import { fakeServer, FakeTransport } from "./_testing.ts";

const LINE = new TextEncoder().encode("x".repeat(63) + "\n");

/** A transport whose writes complete at once and keep nothing. */
class NullTransport extends FakeTransport {
  writes = 0;

  override write(bytes: Uint8Array): Promise<number> {
    this.writes++;
    return Promise.resolve(bytes.length);
  }
}

/** One that frames lines as a WebSocket client's transport does. */
class NullFramedTransport extends NullTransport {
  readonly frame = encodeLineFrames;
}

/**
 * A room of one sender and `receivers` recipients (WebSocket-framed ones
 * with `framed`); `send` relays a line.
 */
function room(receivers: number, framed = false): { send(): Promise<void> } {
  const { connect } = fakeServer({ maxClients: receivers + 1 });
  const sender = new NullTransport();
  connect(sender);
  const others: NullTransport[] = [];
  for (let i = 0; i < receivers; i++) {
    const other = framed ? new NullFramedTransport() : new NullTransport();
    connect(other);
    others.push(other);
  }
  const last = others[others.length - 1];
  return {
    async send() {
      const target = last.writes + 1;
      sender.sink!.receive(LINE);
      // The scheduler starts writes in slices of 128 per turn.
      while (last.writes < target) await Promise.resolve();
    },
  };
}

const rooms = { 100: room(100), 1000: room(1000), 10000: room(10000) };

for (const n of [100, 1000, 10000] as const) {
  Deno.bench({
    name: `${n} recipients`,
    group:
      "one 64-byte line through frame, fan-out, queue and write (no sockets)",
    baseline: n === 100,
    n: n === 10000 ? 200 : undefined,
    async fn() {
      await rooms[n].send();
    },
  });
}

const framedRoom = room(1000, true);

Deno.bench({
  name: "1000 WebSocket recipients",
  group:
    "one 64-byte line through frame, fan-out, queue and write (no sockets)",
  async fn() {
    await framedRoom.send();
  },
});
