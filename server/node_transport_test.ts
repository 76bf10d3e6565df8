// The node:net transport over real sockets on loopback, beside the
// Deno.listen one: a failed write must not cost the lines a client completed
// before it reset (§5.1), and pausing and closing keep the Transport contract.
//
// The race: a client sends its last lines and resets while the server is
// busy; the server then writes to it (the fan-out of another client's line)
// before reading it. The write fails (EPIPE); the lines are still in the
// kernel. node:net's streams destroyed the socket on that failure and lost
// them, every round below; `Deno.Conn` reads them. The clients run on a
// worker thread (`ResetPeer`), so the test can have them send and reset
// while the server's thread is held inside one of its own callbacks.

import {
  deepEqual,
  equal,
  ok,
  rejects as assertRejects,
} from "node:assert/strict";
import net from "node:net";
import { listenDeno } from "./deno_transport.ts";
import { listenNode } from "./node_transport.ts";
import { ResetPeer } from "./_node_reset_peer.ts";
import { startServer, transportTest, waitFor } from "./_testing.ts";
import type {
  ListenOptions,
  Transport,
  TransportEnd,
  TransportListener,
} from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a transport's sink was told. */
interface Received {
  text: string;
  ends: TransportEnd[];
}

/** Starts `transport` with a sink that records everything. */
function record(transport: Transport): Received {
  const received: Received = { text: "", ends: [] };
  transport.start({
    receive: (chunk) => received.text += decoder.decode(chunk),
    end: (how) => received.ends.push(how),
  });
  return received;
}

/** A listener that hands out the transports it accepts, one by one. */
async function acceptor(
  listen: (
    options: ListenOptions,
  ) => TransportListener | Promise<TransportListener>,
) {
  const accepted: Transport[] = [];
  const listener = await listen({
    hostname: "127.0.0.1",
    port: 0,
    onConnection: (transport) => accepted.push(transport),
    onAcceptError: () => {},
  });
  return {
    port: listener.addr.port,
    async next(): Promise<Transport> {
      await waitFor(() => accepted.length > 0, "a connection");
      return accepted.shift()!;
    },
    [Symbol.asyncDispose]: () => listener.close(),
  };
}

/** A plain node:net server calling `onChunk` from its read callback. */
async function clockServer(onChunk: () => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => onChunk());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    [Symbol.asyncDispose]: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const LISTENERS = { deno: listenDeno, node: listenNode } as const;

for (const [name, listen] of Object.entries(LISTENERS)) {
  Deno.test(
    `§5.1 a failed write loses none of what the peer sent before its RST [${name}]`,
    async () => {
      await using server = await acceptor(listen);
      await using peer = new ResetPeer();
      // The write starts inside a read callback of the event loop's, as
      // the server's writes do, right after the peer's lines and RST.
      let onClock = () => {};
      await using clock = await clockServer(() => onClock());
      await peer.connect("clock", clock.port);
      const rounds = 100;
      let lost = 0;
      for (let round = 0; round < rounds; round++) {
        await peer.connect("S", server.port);
        const transport = await server.next();
        const received = record(transport);
        const text = `last ${round}\nwords ${round}\n`;
        let write: Promise<boolean> | undefined;
        onClock = () => {
          peer.resetNow("S", text);
          write = transport.write(encoder.encode("to S\r\n"))
            .then(() => true, () => false);
        };
        await peer.send("clock", "t");
        await waitFor(() => write !== undefined, "the clock");
        equal(await write, false, "the write after the RST fails");
        await waitFor(() => received.ends.length > 0, `round ${round}'s end`);
        if (received.text !== text) lost++;
        transport.close();
        equal(received.ends.length, 1, "end() once");
      }
      equal(lost, 0, `${lost} of ${rounds} rounds lost lines`);
    },
  );
}

/** A client on this thread: a node:net socket, connected. */
async function client(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

/** Writes `bytes` in 64 KiB pieces as fast as TCP takes them. */
function flood(socket: net.Socket, bytes: Uint8Array) {
  const progress = { written: 0, done: false };
  (async () => {
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      const piece = bytes.subarray(at, at + 64 * 1024);
      await new Promise((resolve) => socket.write(piece, resolve));
      progress.written += piece.length;
    }
    progress.done = true;
  })();
  return progress;
}

/** Resolves once `value()` has not changed for `ms`. */
async function settled(value: () => number, ms = 100): Promise<void> {
  let last = value();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (value() === last) return;
    last = value();
  }
}

for (const [name, listen] of Object.entries(LISTENERS)) {
  Deno.test(
    `pauseReading stops after the chunk being delivered and leaves the rest in the kernel, so TCP pushes back; resumeReading loses none of it [${name}]`,
    async () => {
      await using server = await acceptor(listen);
      const socket = await client(server.port);
      const transport = await server.next();
      const chunks: Uint8Array[] = [];
      let pause = true;
      transport.start({
        receive: (chunk) => {
          chunks.push(chunk.slice());
          if (!pause) return;
          transport.pauseReading();
          transport.pauseReading(); // idempotent
        },
        end: () => {},
      });
      // More than loopback's socket buffers hold (a few MiB each way).
      const payload = new Uint8Array(32 * 1024 * 1024);
      for (let i = 0; i < payload.length; i += 4096) payload[i] = i >> 12;
      const sent = flood(socket, payload);
      await settled(() => sent.written);
      equal(chunks.length, 1, "nothing read after the pausing chunk");
      ok(!sent.done, `the sender is held up (${sent.written} bytes taken)`);
      // Once more paused after one chunk, then left to read.
      transport.resumeReading();
      await waitFor(() => chunks.length === 2, "the next chunk");
      await new Promise((resolve) => setTimeout(resolve, 20));
      equal(chunks.length, 2, "paused again after one chunk");
      pause = false;
      transport.resumeReading();
      transport.resumeReading(); // idempotent
      const received = () => chunks.reduce((n, chunk) => n + chunk.length, 0);
      await waitFor(() => received() === payload.length, "all of it", 10_000);
      const joined = new Uint8Array(received());
      let at = 0;
      for (const chunk of chunks) {
        joined.set(chunk, at);
        at += chunk.length;
      }
      ok(joined.every((byte, i) => byte === payload[i]), "in order, intact");
      socket.destroy();
      transport.close();
    },
  );

  Deno.test(
    `paused, a peer's last lines and RST wait in the kernel; resumed, the lines come before end() [${name}]`,
    async () => {
      await using server = await acceptor(listen);
      const socket = await client(server.port);
      const transport = await server.next();
      transport.pauseReading();
      const received = record(transport);
      await new Promise((resolve) => socket.write("last\nwords\n", resolve));
      socket.resetAndDestroy();
      await new Promise((resolve) => socket.once("close", resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      deepEqual(received, { text: "", ends: [] }, "nothing while paused");
      transport.resumeReading();
      await waitFor(() => received.ends.length > 0, "the end");
      equal(received.text, "last\nwords\n");
      deepEqual(received.ends, ["reset"]);
      transport.close();
    },
  );

  Deno.test(
    `close() works while paused, never throws, and ends nothing after; later writes reject [${name}]`,
    async () => {
      await using server = await acceptor(listen);
      const socket = await client(server.port);
      const closed = new Promise((resolve) => socket.once("close", resolve));
      socket.on("data", () => {});
      const transport = await server.next();
      const received = record(transport);
      equal(await transport.write(encoder.encode("hi\r\n")), 4);
      transport.pauseReading();
      transport.close();
      transport.close();
      transport.resumeReading();
      await closed; // the peer sees the close
      await assertRejects(() => transport.write(encoder.encode("x")));
      await new Promise((resolve) => setTimeout(resolve, 20));
      deepEqual(received.ends, []);
    },
  );
}

transportTest(
  "§5.1 lines sent just before an RST are relayed though the fan-out's write to the sender failed first",
  async (transport) => {
    await using t = await startServer({ transport });
    const [receiver] = await t.clients(1);
    await using peer = new ResetPeer();
    await peer.connect("W", t.port);
    await waitFor(() => t.server.clientCount === 2, "W to join");
    // Inside the fan-out of W's line, after it is queued for S and before
    // the server's writes start: S sends its lines and resets.
    let inFanOut: (() => void) | undefined;
    t.server.room.onBroadcast(() => {
      const hook = inFanOut;
      inFanOut = undefined;
      hook?.();
    });
    const rounds = 100;
    const missing: string[] = [];
    for (let round = 0; round < rounds; round++) {
      await peer.connect("S", t.port);
      await waitFor(() => t.server.clientCount === 3, "S to join");
      const lines = [`s ${round} a`, `s ${round} b`, `s ${round} c`];
      inFanOut = () =>
        peer.resetNow("S", lines.map((line) => `${line}\n`).join(""));
      await peer.send("W", `w ${round}\n`);
      await waitFor(() => t.server.clientCount === 2, "S to leave");
      await peer.send("W", `sentinel ${round}\n`);
      const got = new Set<string>();
      for (;;) {
        const line = await receiver.readLine({ timeoutMs: 5000 });
        ok(line !== null, "the receiver is still connected");
        if (line.text === `sentinel ${round}`) break;
        got.add(line.text);
      }
      ok(got.has(`w ${round}`));
      missing.push(...lines.filter((line) => !got.has(line)));
    }
    deepEqual(
      missing,
      [],
      `${missing.length} of ${rounds * 3} lines lost`,
    );
  },
);
