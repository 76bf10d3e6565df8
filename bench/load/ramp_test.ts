import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { LoadConnection, LoadTarget } from "./connection.ts";
import { connectRange, type ConnectRangeOptions, rampUp } from "./ramp.ts";

function listener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const conn of accepted) conn.close();
    },
  };
}

const tcp = (port: number): LoadTarget => ({
  kind: "tcp",
  hostname: "127.0.0.1",
  port,
  path: "",
});

/** A ramp step that connects every client here, like one shard would. */
const here = (
  options: Omit<ConnectRangeOptions, "from" | "to" | "deadlineMs">,
) =>
(from: number, to: number, deadlineMs: number) =>
  connectRange({ ...options, from, to, deadlineMs });

Deno.test("the ramp connects everyone in steps, over every target, and pauses after each", async () => {
  const a = listener();
  const b = listener();
  const taken: [number, number][] = [];
  const steps: number[] = [];
  const conns: LoadConnection[] = [];
  const ramp = await rampUp({
    total: 9,
    steps: 3,
    timeoutMs: 5000,
    connect: here({
      targets: [a, b].map(({ port }) => tcp(port)),
      connectRate: 0,
      take: (conn, i) => {
        conns.push(conn);
        if (conn.kind !== "stream") throw new Error("a stream expected");
        taken.push([i, (conn.conn.remoteAddr as Deno.NetAddr).port]);
      },
    }),
    afterStep: (connected) => Promise.resolve(steps.push(connected)),
    settleMs: 50,
  });
  deepEqual([ramp.connected, ramp.failed, ramp.failure], [9, 0, null]);
  deepEqual(steps, [3, 6, 9]);
  equal(ramp.times.count, 9);
  for (const [i, port] of taken) equal(port, i % 2 === 0 ? a.port : b.port);
  // The pauses (3 × 50 ms) are in the ramp's time, not the connecting time.
  ok(ramp.rampSeconds >= 0.15, `${ramp.rampSeconds}`);
  ok(ramp.rampSeconds - ramp.seconds >= 0.15, `${ramp.seconds}`);
  for (const conn of conns) conn.close();
  a.close();
  b.close();
});

Deno.test("a refused connect fails the ramp, counted by error, and no more are started", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = closed.addr as Deno.NetAddr;
  closed.close();
  const ramp = await rampUp({
    total: 400,
    steps: 2,
    timeoutMs: 5000,
    connect: here({ targets: [tcp(port)], connectRate: 1000, take: () => {} }),
  });
  equal(ramp.errors.ConnectionRefused, ramp.failed);
  // The first refusal stops the step: a few, not 200 (let alone 400).
  ok(ramp.failed >= 1 && ramp.failed < 50, `${ramp.failed}`);
  match(
    ramp.failure!,
    /^\d+ connections failed \(ConnectionRefused\); 0 of 400 connected$/,
  );
});

Deno.test("the connect rate paces the ramp, and its time limit ends it", async () => {
  const server = listener();
  const conns: LoadConnection[] = [];
  const ramp = await rampUp({
    total: 100,
    steps: 1,
    timeoutMs: 200,
    connect: here({
      targets: [tcp(server.port)],
      connectRate: 100,
      take: (conn) => conns.push(conn),
    }),
  });
  equal(ramp.failure, "the ramp timed out");
  ok(ramp.connected > 5 && ramp.connected < 50, `${ramp.connected}`);
  for (const conn of conns) conn.close();
  server.close();
});

Deno.test("a shard connects only its own clients: i % stride = offset", async () => {
  const server = listener();
  const mine: number[] = [];
  const conns: LoadConnection[] = [];
  const result = await connectRange({
    targets: [tcp(server.port)],
    from: 3,
    to: 11,
    connectRate: 0,
    deadlineMs: performance.now() + 5000,
    stride: 3,
    offset: 1,
    take: (conn, i) => {
      conns.push(conn);
      mine.push(i);
    },
  });
  deepEqual(mine.sort((x, y) => x - y), [4, 7, 10]);
  equal(result.connected, 3);
  for (const conn of conns) conn.close();
  server.close();
});
