import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { openTarget, ourCommand, summariseBlocked } from "./target.ts";

Deno.test("ourCommand: the registry's ours, --quiet by default, the JSON log, the transport and extra flags on request", () => {
  equal(
    ourCommand(),
    "deno run -A server/main.ts --port {port} --quiet --max-clients 10000",
  );
  equal(
    ourCommand({
      quiet: false,
      jsonLog: true,
      transport: "node",
      flags: ["--line-timeout", "5"],
    }),
    "deno run -A server/main.ts --port {port} --max-clients 10000 --transport node --log json --line-timeout 5",
  );
});

Deno.test("summariseBlocked counts whole lines, log_dropped and the shutdown summary", () => {
  const text =
    '{"event":"connect","log_dropped":3}\n2026 connect id=2 log_dropped=4\n' +
    "2026 shutdown clients_served=2\ncut sh";
  deepEqual(summariseBlocked(new TextEncoder().encode(text)), {
    bytes: text.length,
    lines: 3,
    logDroppedReported: 7,
    shutdownLogged: true,
  });
});

Deno.test("openTarget: our server with its JSON log read, its RSS, and a clean stop", async () => {
  const target = await openTarget(
    {
      kind: "ours",
      transport: "node",
      env: { DENO_V8_FLAGS: "--max-old-space-size=256" },
    },
    { stdout: "json-log", ours: { quiet: false, jsonLog: true } },
  );
  match(
    target.description,
    /^deno run -A server\/main\.ts --port \d+ --max-clients 10000 --transport node --log json$/,
  );
  ok((await target.rssBytes() ?? 0) > 1024 * 1024);
  const conn = await Deno.connect({
    hostname: target.hostname,
    port: target.port,
  });
  conn.close();
  const exit = await target.stop();
  deepEqual(
    { code: exit?.code, diedEarly: exit?.diedEarly, killed: exit?.killed },
    { code: 0, diedEarly: false, killed: false },
  );
  const events = target.events.map((e) => e.event);
  equal(events[0], "listening");
  ok(events.includes("connect") && events.includes("shutdown"), events.join());
  equal(target.running, false);
  equal(await target.rssBytes(), undefined);
});

Deno.test("openTarget: a command that exits before listening is an error that says so", async () => {
  await rejects(
    openTarget({
      kind: "spawn",
      command: "sh -c 'echo nope >&2; exit 3' {port}",
      env: {},
      jsonLog: false,
    }),
    /exited \(exit code 3\) before listening on port \d+: nope/,
  );
});

Deno.test("openTarget: a command runs with sh -c, its environment set, and a blocked stdout gives back what it held", async () => {
  const target = await openTarget(
    {
      kind: "spawn",
      command:
        'echo "greeting=$GREETING"; exec ncat -l --broker 127.0.0.1 {port}',
      env: { GREETING: "hi there" },
      jsonLog: false,
    },
    { stdout: "blocked" },
  );
  equal(target.pid !== undefined && target.running, true);
  ok(((await target.sample())?.rssBytes ?? 0) > 0);
  const held = await target.blockedStdout();
  equal(held?.lines, 1);
  equal(held?.bytes, "greeting=hi there\n".length);
  const exit = await target.stop();
  deepEqual([exit?.signal, exit?.killed, exit?.diedEarly], [
    "SIGTERM",
    false,
    false,
  ]);
});
