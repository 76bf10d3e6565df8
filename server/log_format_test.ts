// The JSON log is typed as a reader expects: keys in one style (snake_case,
// so `jq .closes_line_too_long` needs no quoting), numbers as numbers.

import { deepEqual, equal, ok } from "node:assert/strict";
import { startServer, waitFor } from "./_testing.ts";

const encoder = new TextEncoder();

Deno.test("every JSON log field is snake_case, and every count, size and duration a number", async () => {
  const t = await startServer({ maxLineBytes: 1024, maxClients: 2 });
  const [a, b] = await t.clients(2);
  await a.send("hello");
  await b.readLine({ timeoutMs: 5000 });
  await a.write(encoder.encode("x".repeat(2000) + "\n")); // line-too-long
  await waitFor(() => t.server.stats.closes["line-too-long"] === 1, "the cut");
  await t.clients(1);
  const extra = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
  await waitFor(() => t.server.stats.closes["server-full"] === 1, "a reject");
  extra.close();
  await t[Symbol.asyncDispose]();
  const events = t.log.map((line) => JSON.parse(line));
  const names = new Set(events.map((e) => e.event));
  for (
    const name of ["listening", "connect", "disconnect", "reject", "shutdown"]
  ) {
    ok(names.has(name), `a ${name} event`);
  }
  const bad: string[] = [];
  for (const event of events) {
    for (const [key, value] of Object.entries(event)) {
      if (!/^[a-z][a-z0-9_]*$/.test(key)) {
        bad.push(`${event.event}: key ${key}`);
      }
      if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) {
        bad.push(
          `${event.event}: ${key} is the string ${JSON.stringify(value)}`,
        );
      }
    }
  }
  deepEqual(bad, []);
  const cut = events.find((e) => e.reason === "line-too-long");
  equal(typeof cut.seconds, "number");
  const summary = events.find((e) => e.event === "shutdown");
  equal(summary.closes_line_too_long, 1);
  equal(summary.closes_server_full, 1);
});
