import { deepEqual, equal } from "node:assert/strict";
import {
  closedByServer,
  connectionEnds,
  parseTcpTable,
  readTcpTable,
} from "./tcp_table.ts";

Deno.test("parseTcpTable reads ports, state and queues of /proc/net/tcp and tcp6", () => {
  const text =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
    "   0: 0100007F:1E07 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n" +
    "   1: 0100007F:1E07 0100007F:C350 04 0000FFFF:00000000 01:00000014 00000000  1000        0 0 3 0\n" +
    "   2: 00000000000000000000000001000000:C351 00000000000000000000000001000000:1E07 08 00000000:00000010 00:00000000 00000000 0 0 2 1 0\n";
  deepEqual(parseTcpTable(text), [
    { localPort: 7687, remotePort: 0, state: "LISTEN", txQueue: 0, rxQueue: 0 },
    {
      localPort: 7687,
      remotePort: 50000,
      state: "FIN_WAIT1",
      txQueue: 65535,
      rxQueue: 0,
    },
    {
      localPort: 50001,
      remotePort: 7687,
      state: "CLOSE_WAIT",
      txQueue: 0,
      rxQueue: 16,
    },
  ]);
});

Deno.test("connectionEnds prefers a live socket to a TIME_WAIT leftover", () => {
  const table = [
    {
      localPort: 80,
      remotePort: 5,
      state: "TIME_WAIT",
      txQueue: 0,
      rxQueue: 0,
    },
    {
      localPort: 80,
      remotePort: 5,
      state: "ESTABLISHED",
      txQueue: 0,
      rxQueue: 0,
    },
    {
      localPort: 5,
      remotePort: 80,
      state: "ESTABLISHED",
      txQueue: 0,
      rxQueue: 9,
    },
  ];
  const ends = connectionEnds(table, 80, [5, 6]);
  equal(ends.get(5)?.server?.state, "ESTABLISHED");
  equal(closedByServer(ends.get(5)!), false);
  equal(closedByServer(ends.get(6)!), true, "no sockets at all: gone");
});

Deno.test("readTcpTable sees a server close a connection its client never reads", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const accepted = await listener.accept();
  const clientPort = (client.localAddr as Deno.NetAddr).port;
  const ends = async () =>
    connectionEnds(await readTcpTable(), port, [clientPort]).get(clientPort)!;
  equal(closedByServer(await ends()), false);
  await accepted.write(new Uint8Array(1000));
  accepted.close();
  // The FIN is processed at once on loopback; allow the table a moment.
  let closed = false;
  for (let i = 0; i < 50 && !closed; i++) {
    closed = closedByServer(await ends());
    if (!closed) await new Promise((r) => setTimeout(r, 10));
  }
  equal(closed, true);
  client.close();
  listener.close();
});
