import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { selectServers } from "../../targets/servers.ts";
import { matrixServers } from "./columns.ts";
import { runMatrix } from "./running.ts";
import type { MatrixProgress } from "./server_run.ts";

const ours = selectServers(await matrixServers({ build: false }), [
  "ours",
  "ours-deno",
]);

Deno.test("runMatrix: runs each server in its own process, in column order, with progress", async () => {
  const events: MatrixProgress[] = [];
  const run = await runMatrix(ours, {
    settings: { only: ["relay.basic", "relay.no-echo"] },
    onProgress: (event) => events.push(event),
  });
  equal(run.concurrency, 2);
  deepStrictEqual(run.settings.only, ["relay.basic", "relay.no-echo"]);
  deepStrictEqual(run.runs.map((r) => r.server.id), ["ours", "ours-deno"]);
  for (const { report, error } of run.runs) {
    equal(error, undefined);
    deepStrictEqual(report?.cases.map((c) => [c.id, c.verdict]), [
      ["relay.basic", "pass"],
      ["relay.no-echo", "pass"],
    ]);
    match(report!.spawn!.command, /server\/main\.ts --port \{port\}/);
  }
  for (const id of ["ours", "ours-deno"]) {
    deepStrictEqual(
      events.filter((e) => e.server === id).map((e) => e.type),
      ["server-start", "case-end", "case-end", "server-end"],
    );
  }
});

Deno.test("runMatrix: in-process too; an unavailable server is not run and says why", async () => {
  const missing = {
    ...ours[0],
    id: "gone",
    unavailable: "gone is not installed",
  };
  const run = await runMatrix([ours[0], missing], {
    settings: { only: ["relay.basic"] },
    isolate: false,
    concurrency: 1,
  });
  equal(run.runs[0].report?.cases[0].verdict, "pass");
  deepStrictEqual(
    [run.runs[1].report, run.runs[1].error],
    [null, "gone is not installed"],
  );
});

Deno.test("runMatrix: a server that will not start is an error, not a crash of the run", async () => {
  const broken = { ...ours[0], id: "broken", command: "exit 3 # {port}" };
  const run = await runMatrix([broken], {
    settings: { only: ["relay.basic"] },
  });
  equal(run.runs[0].report, null);
  match(run.runs[0].error!, /server exited \(exit code 3\) before listening/);
});

Deno.test("runMatrix: a run over its time is stopped, and so is its server", async () => {
  const marker = `stalls-${Math.floor(Math.random() * 1e9)}`;
  // A server that accepts and never relays: every case waits out its
  // timeouts, far longer than the run is given.
  const code = `/* ${marker} */ const port = Number(Deno.args[0]); ` +
    `for await (const c of Deno.listen({ hostname: "127.0.0.1", port })) ` +
    `c.readable.pipeTo(new WritableStream()).catch(() => {});`;
  const slow = {
    ...ours[0],
    id: "slow",
    command: `${Deno.execPath()} eval '${code}' {port}`,
  };
  const run = await runMatrix([slow], {
    settings: { only: ["relay.basic"] },
    serverTimeoutMs: 1500,
  });
  equal(run.runs[0].report, null);
  match(run.runs[0].error!, /did not finish within 1500 ms/);
  // Give the group a moment to go, then look for it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const left: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(marker)) left.push(entry.name);
    } catch {
      // Gone.
    }
  }
  deepStrictEqual(left, [], "the server was stopped with its run");
  ok(run.durationMs < 10_000);
});
