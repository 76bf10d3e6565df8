import { equal } from "node:assert/strict";
import { resetTables, resetVerdict, runReset } from "./reset.ts";

Deno.test("reset, in small: with the default transport no line sent before an RST is lost", async () => {
  const { result } = await runReset(
    { kind: "ours", transport: "deno", env: {} },
    { rounds: 20, lines: 5, parallel: 2 },
  );
  equal(result.resettersRun, 40);
  equal(result.linesSent, 200);
  equal(result.delivered, 200);
  equal(result.lost, 0);
  equal(result.duplicated + result.malformed, 0);
  equal(result.roomAliveAfter, true);
  equal(resetVerdict(result), "0 of 200 lines lost (0 %); room still relays");
  equal(resetTables(result)[0].rows.length, 5);
});
