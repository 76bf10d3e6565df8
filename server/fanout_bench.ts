/**
 * `deno bench`: one line fanned out to N clients through our server, a
 * real process on loopback. Servers and clients are set up before the
 * benches (outside the timed part); each iteration sends one line and
 * waits until every client has received it.
 *
 * @module
 */

import { startServer } from "../lib/server_process.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const LINE = new TextEncoder().encode("x".repeat(63) + "\n");

/** A server with one sender and `receivers` clients that count lines. */
interface Room {
  send(): Promise<void>;
}

/**
 * A room of `receivers` clients reading over TCP, or over WebSocket at
 * the ops port (`websocket`), and one TCP sender.
 */
async function room(
  receivers: number,
  transport = "deno",
  websocket = false,
): Promise<Room> {
  const server = await startServer({
    command: "deno run -A server/main.ts --port {port} --http-port {port+1} " +
      `--quiet --max-clients 20000 --transport ${transport}`,
    cwd: ROOT,
  });
  const connect = () => Deno.connect(server.target);
  let received = 0;
  let target = 0;
  let done: (() => void) | undefined;
  const onLine = () => {
    if (++received === target) done?.();
  };
  for (let i = 0; i < receivers; i++) {
    if (websocket) {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port + 1}/ws`);
      await new Promise((resolve) => socket.onopen = resolve);
      socket.onmessage = onLine; // one message is one line
      continue;
    }
    const conn = await connect();
    conn.setNoDelay(true);
    (async () => {
      const splitter = new LineSplitter();
      const buffer = new Uint8Array(4096);
      let n: number | null;
      try {
        while ((n = await conn.read(buffer)) !== null) {
          splitter.push(buffer.subarray(0, n), onLine);
        }
      } catch {
        // The bench process is exiting.
      }
    })();
  }
  const sender = await connect();
  sender.setNoDelay(true);
  const send = async () => {
    target = received + receivers;
    const arrived = new Promise<void>((resolve) => done = resolve);
    await sender.write(LINE);
    await arrived;
  };
  // Until every client has a line, some may not be in the room yet.
  for (let i = 0; i < 100; i++) {
    const before = received;
    target = Infinity;
    await sender.write(LINE);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (received - before === receivers) break;
  }
  return { send };
}

const rooms = {
  10: await room(10),
  100: await room(100),
  1000: await room(1000),
  node100: await room(100, "node"),
  ws100: await room(100, "deno", true),
};

for (const n of [10, 100, 1000] as const) {
  Deno.bench({
    name: `${n} clients`,
    group: "one 64-byte line to every client",
    baseline: n === 10,
    async fn() {
      await rooms[n].send();
    },
  });
}

Deno.bench({
  name: "--transport deno",
  group: "one line to 100 clients, by server transport",
  baseline: true,
  async fn() {
    await rooms[100].send();
  },
});

Deno.bench({
  name: "--transport node",
  group: "one line to 100 clients, by server transport",
  async fn() {
    await rooms.node100.send();
  },
});

Deno.bench({
  name: "TCP readers",
  group: "one line to 100 clients, by client transport",
  baseline: true,
  async fn() {
    await rooms[100].send();
  },
});

Deno.bench({
  name: "WebSocket readers",
  group: "one line to 100 clients, by client transport",
  async fn() {
    await rooms.ws100.send();
  },
});
