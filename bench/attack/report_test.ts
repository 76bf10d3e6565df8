import { deepEqual, equal } from "node:assert/strict";
import {
  closeReasons,
  countsCell,
  cutTimes,
  cutTimesCell,
  describeExit,
  formatReport,
  percent,
  renderTable,
} from "./report.ts";

Deno.test("renderTable aligns columns, with and without a header", () => {
  equal(
    renderTable({ title: "T", rows: [["a", "1"], ["long label", "2"]] }),
    "T\n  a           1\n  long label  2",
  );
  equal(
    renderTable({
      title: "T",
      header: ["t", "RSS"],
      rows: [["10 s", "1 MiB"]],
    }),
    "T\n  t     RSS\n  ----  -----\n  10 s  1 MiB",
  );
});

Deno.test("formatReport: what ran, how to rerun it, each server, the tables, the verdict", () => {
  const text = formatReport({
    attack: "reset",
    rerun: "deno task attack reset --rounds 2",
    startedAt: "2026-12-01T00:00:00.000Z",
    seconds: 1.25,
    servers: [{
      label: "as given",
      command: "deno run -A server/main.ts --port 4000 --quiet",
      pid: 7,
      exit: {
        code: 0,
        signal: null,
        diedEarly: false,
        stopMs: 12,
        killed: false,
        stderrTail: "",
      },
    }],
    verdict: "0 of 10 lines lost (0 %)",
    result: {},
  }, [{ title: "reset", rows: [["lost", "0"]] }]);
  deepEqual(text.split("\n"), [
    "linechat attack reset (2026-12-01T00:00:00.000Z, 1.3 s)",
    "rerun    deno task attack reset --rounds 2",
    "server   as given: deno run -A server/main.ts --port 4000 --quiet (pid 7); stopped by SIGTERM in 12 ms, exit code 0",
    "",
    "reset",
    "  lost  0",
    "",
    "verdict  0 of 10 lines lost (0 %)",
  ]);
});

Deno.test("describeExit tells a death, a kill and a clean stop apart", () => {
  const base = {
    code: 0,
    signal: null,
    diedEarly: false,
    stopMs: 5,
    killed: false,
    stderrTail: "",
  };
  equal(
    describeExit({
      ...base,
      code: null,
      signal: "SIGABRT",
      diedEarly: true,
      stderrTail:
        "...\n#\n# Fatal JavaScript out of memory: Ineffective mark-compacts\n",
    }),
    "DIED during the attack (signal SIGABRT): # Fatal JavaScript out of memory: Ineffective mark-compacts",
  );
  equal(
    describeExit({ ...base, code: null, signal: "SIGKILL", killed: true }),
    "did not stop on SIGTERM; killed (signal SIGKILL)",
  );
  equal(describeExit(base), "stopped by SIGTERM in 5 ms, exit code 0");
});

Deno.test("cut times, close reasons and counts as cells", () => {
  const cuts = cutTimes([2500, 1000, 4000, 3000]);
  deepEqual(cuts, { count: 4, firstMs: 1000, medianMs: 2500, lastMs: 4000 });
  equal(
    cutTimesCell(cuts, 50),
    "4 of 50 (first at 1.0 s, median 2.5 s, last 4.0 s)",
  );
  const events = [
    { atMs: 10, event: "connect", fields: { addr: "127.0.0.1:1" } },
    {
      atMs: 20,
      event: "disconnect",
      fields: {
        addr: "127.0.0.1:1",
        reason: "slow-consumer",
        limit: "max-pending-bytes",
      },
    },
    {
      atMs: 30,
      event: "disconnect",
      fields: { addr: "127.0.0.1:2", reason: "eof" },
    },
    // Someone else's client, and one after the attack ended.
    {
      atMs: 30,
      event: "disconnect",
      fields: { addr: "127.0.0.1:9", reason: "eof" },
    },
    {
      atMs: 99,
      event: "disconnect",
      fields: { addr: "127.0.0.1:3", reason: "eof" },
    },
  ];
  const reasons = closeReasons(events, new Set([1, 2, 3]), 50);
  deepEqual(reasons, { "slow-consumer limit=max-pending-bytes": 1, eof: 1 });
  equal(countsCell({}), "none");
  equal(countsCell({ eof: 2, reset: 5 }), "reset ×5, eof ×2");
  deepEqual(
    [percent(191, 500), percent(0, 500), percent(1, 4), percent(1, 0)],
    ["38.2 %", "0 %", "25 %", "0 %"],
  );
});
