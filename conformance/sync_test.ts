// Synchronisation through a real server (ours, in process): barriers,
// sentinels and what a mismatch records.

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { Logger, serve } from "../server/mod.ts";
import { CaseContext, type CaseDefinition } from "./case.ts";
import { TraceRecorder } from "./trace.ts";

async function withContext(
  level: CaseDefinition["level"],
  body: (ctx: CaseContext) => Promise<void>,
): Promise<CaseContext> {
  const server = serve({ port: 0, logger: new Logger({ write: () => {} }) });
  const definition: CaseDefinition = {
    id: "x.sync",
    clause: "§2.1",
    level,
    requirement: "synthetic",
    run: body,
  };
  const ctx = new CaseContext(
    definition,
    {
      targets: [{ hostname: "127.0.0.1", port: server.addr.port }],
      maxLineBytes: 65536,
      maxPendingBytes: 4 * 1024 * 1024,
      clients: 10,
      timeoutScale: 1,
      tag: "c1",
    },
    new TraceRecorder(),
    { linesReceived: 0, lfOnlyLines: 0, sent: new Set() },
  );
  try {
    await body(ctx);
  } finally {
    ctx.dispose();
    await server.shutdown();
  }
  return ctx;
}

Deno.test("a room is registered in order, and a sentinel proves what came before it", async () => {
  const ctx = await withContext("MUST", async (ctx) => {
    const [a, b, c] = await ctx.room(["A", "B", "C"]);
    await a.send("hello");
    equal(await ctx.expectLines(b, ["hello"], await ctx.sentinel(a)), true);
    await c.sendMany(["x", "y"]);
    const got = await ctx.collectUntilAll(
      a,
      [await ctx.sentinel(c), await ctx.sentinel(b)],
      2000,
    );
    deepStrictEqual(got.missing, []);
    deepStrictEqual(got.lines.map((l) => new TextDecoder().decode(l.bytes)), [
      "x",
      "y",
    ]);
    equal(ctx.wasSent(new TextEncoder().encode("hello")), true);
  });
  deepStrictEqual(ctx.findings, []);
  const sends = ctx.trace.events().filter((e) => e.event === "send");
  ok(sends.some((e) => e.data === "lcc~ctl~join~c1~B\\n"), "B's join line");
  ok(sends.some((e) => e.data === "lcc~end~c1~A~1\\n"), "A's first sentinel");
});

Deno.test("a mismatch is a finding with escaped evidence; a SHOULD case's is non-strict", async () => {
  const ctx = await withContext("SHOULD", async (ctx) => {
    const [a, b] = await ctx.room(["A", "B"]);
    await a.send("tab\there");
    equal(await ctx.expectLines(b, ["other"], await ctx.sentinel(a)), false);
  });
  equal(ctx.findings.length, 1);
  const [finding] = ctx.findings;
  equal(finding.severity, "non-strict");
  deepStrictEqual(finding.received, { B: ["tab\\there"] });
  deepStrictEqual(finding.expected, { B: ["other"] });
});
