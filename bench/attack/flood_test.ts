import { equal, match, ok } from "node:assert/strict";
import { floodTables, floodVerdict, runFlood } from "./flood.ts";

Deno.test("flood, in small: the flooder is slowed, not cut; no reader is cut and every chat line arrives", async () => {
  const { result, servers } = await runFlood(
    { kind: "ours", transport: "node", env: {} },
    { readers: 4, rate: 20, baselineMs: 500, durationMs: 1500, drainMs: 3000 },
  );
  equal(servers.length, 1);
  match(
    servers[0].command,
    /server\/main\.ts --port \d+ --max-clients 10000 --transport node --log json$/,
  );
  equal(servers[0].exit?.code, 0);
  ok(
    result.flooder.lines > 10_000,
    `flooder sent ${result.flooder.lines} lines`,
  );
  equal(result.flooder.cut, null);
  equal(result.readers.cut.count, 0);
  equal(result.chat.lost, 0);
  equal(result.chat.lostAtCutReaders, 0);
  equal(result.chat.duplicated + result.chat.reordered, 0);
  ok(result.chat.expected > 0);
  equal(result.chat.deliveredByEnd + result.chat.late, result.chat.expected);
  ok(
    result.chat.latency.baseline.count > 0 &&
      result.chat.latency.flood.count > 0,
  );
  ok(result.readers.readBytesPerSecond.min > 0);
  ok(result.timeline.length >= 1);
  const [summary, timeline] = floodTables(result);
  match(summary.title, /^flood: 1 flooder \(own worker\) against 4 readers/);
  equal(summary.rows.find((row) => row[0] === "readers cut")?.[1], "0 of 4");
  equal(timeline.header?.length, 5);
  match(
    floodVerdict(result),
    /^flooder not cut .*; no reader cut; every chat line arrived; chat p99/,
  );
});
