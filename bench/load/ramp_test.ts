import { deepEqual, equal, match, ok } from "node:assert/strict";
import { rampUp } from "./ramp.ts";

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

Deno.test("the ramp connects everyone in steps, over every target, and pauses after each", async () => {
  const a = listener();
  const b = listener();
  const taken: [number, number][] = [];
  const steps: number[] = [];
  const conns: Deno.TcpConn[] = [];
  const ramp = await rampUp({
    targets: [a, b].map(({ port }) => ({ hostname: "127.0.0.1", port })),
    total: 9,
    connectRate: 0,
    steps: 3,
    timeoutMs: 5000,
    onConnect: (conn, i) => {
      conns.push(conn);
      taken.push([i, (conn.remoteAddr as Deno.NetAddr).port]);
    },
    afterStep: (connected) => Promise.resolve(steps.push(connected)),
    settleMs: 1,
  });
  deepEqual([ramp.connected, ramp.failed, ramp.failure], [9, 0, null]);
  deepEqual(steps, [3, 6, 9]);
  equal(ramp.times.count, 9);
  for (const [i, port] of taken) equal(port, i % 2 === 0 ? a.port : b.port);
  for (const conn of conns) conn.close();
  a.close();
  b.close();
});

Deno.test("refused connects fail the ramp, counted by error", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = closed.addr as Deno.NetAddr;
  closed.close();
  const ramp = await rampUp({
    targets: [{ hostname: "127.0.0.1", port }],
    total: 4,
    connectRate: 0,
    steps: 2,
    timeoutMs: 5000,
    onConnect: () => {},
  });
  deepEqual([ramp.failed, ramp.errors], [2, { ConnectionRefused: 2 }]);
  match(ramp.failure!, /^2 of 4 connections failed \(ConnectionRefused\)$/);
});

Deno.test("the connect rate paces the ramp, and its time limit ends it", async () => {
  const server = listener();
  const conns: Deno.TcpConn[] = [];
  const ramp = await rampUp({
    targets: [{ hostname: "127.0.0.1", port: server.port }],
    total: 100,
    connectRate: 100,
    steps: 1,
    timeoutMs: 200,
    onConnect: (conn) => conns.push(conn),
  });
  equal(ramp.failure, "the ramp timed out");
  ok(ramp.connected > 5 && ramp.connected < 50, `${ramp.connected}`);
  for (const conn of conns) conn.close();
  server.close();
});
