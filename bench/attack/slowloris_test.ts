import { deepEqual, equal, ok } from "node:assert/strict";
import { runSlowloris, slowlorisTables } from "./slowloris.ts";

Deno.test("slowloris, in small: unfinished lines are never relayed, and --line-timeout cuts their senders", async () => {
  const { result } = await runSlowloris(
    { kind: "ours", transport: "deno", env: {} },
    { clients: 10, dripMs: 300, durationMs: 2500, lineTimeoutMs: 1000 },
  );
  const [free, limited] = result.runs;
  equal(free.cut.count, 0);
  equal(limited.cut.count, 10);
  // Not "no earlier than the timeout": the server's line timer starts at
  // its first sweep of a client, and a client that sent a partial line
  // before that sweep is cut at once.
  ok((limited.cut.lastMs ?? 0) < 2500, `last cut at ${limited.cut.lastMs} ms`);
  deepEqual(limited.closeReasons, { "line-timeout": 10 });
  equal(free.partialLinesRelayed + limited.partialLinesRelayed, 0);
  equal(free.chat.lost + limited.chat.lost, 0);
  equal(slowlorisTables(result)[0].header?.length, 3);
});
