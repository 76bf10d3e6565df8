// Synchronisation through a real server (ours, in process): barriers,
// sentinels and what a mismatch records.

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { Logger, serve } from "../server/mod.ts";
import { freePort } from "../lib/free_port.ts";
import { CaseContext, type CaseDefinition } from "./case.ts";
import type { Faults } from "./faulty/faults.ts";
import { serveFaulty } from "./faulty/server.ts";
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

/** A context on a faulty server of `faults`, its waits `scale` times 2 s. */
async function withFaulty(
  faults: Faults,
  scale: number,
  body: (ctx: CaseContext) => Promise<void>,
  latencyP99Ms = 0,
): Promise<CaseContext> {
  const port = freePort();
  const server = serveFaulty(port, faults);
  const ctx = new CaseContext(
    {
      id: "x.late",
      clause: "§2.1",
      level: "MUST",
      requirement: "synthetic",
      run: body,
    },
    {
      targets: [{ hostname: "127.0.0.1", port }],
      maxLineBytes: 65536,
      maxPendingBytes: 4 * 1024 * 1024,
      clients: 10,
      timeoutScale: scale,
      latencyP99Ms,
      tag: "c1",
    },
    new TraceRecorder(),
    { linesReceived: 0, lfOnlyLines: 0, sent: new Set() },
  );
  try {
    await body(ctx);
    ctx.finish();
  } finally {
    ctx.dispose();
    await server.shutdown(0);
  }
  return ctx;
}

Deno.test("a line that comes after its wait but within the grace is late (§2.11), not lost", async () => {
  // Waits of 2000 × 0.25 = 500 ms, then as much grace; each delivery takes
  // 300 ms, so A's line and its sentinel (two deliveries) take 600 ms. The
  // preflight would have measured a round trip of 600 ms: no repeats.
  let delivered = false;
  const ctx = await withFaulty(
    { perDeliveryDelayMs: 300 },
    0.25,
    async (ctx) => {
      const [a, b] = await ctx.room(["A", "B"]);
      await a.send("slow but sure");
      delivered = await ctx.expectLines(
        b,
        ["slow but sure"],
        await ctx.sentinel(a),
      );
    },
    600,
  );
  equal(delivered, true, "the line itself is judged as it is");
  const late = ctx.findings.filter((f) => f.clause === "§2.11");
  equal(late.length, 1, JSON.stringify(ctx.findings));
  equal(late[0].severity, "non-strict");
  ok(/late, not lost/.test(late[0].message), late[0].message);
  ok(!ctx.findings.some((f) => f.severity === "fail"));
});

Deno.test("a line still missing after the grace is lost", async () => {
  const ctx = await withFaulty(
    { perDeliveryDelayMs: 400 },
    0.05,
    async (ctx) => {
      const [a, b] = await ctx.room(["A", "B"], {}).catch(() => [] as never);
      if (!a) return;
      await a.send("too slow");
      await ctx.expectLines(b, ["too slow"], await ctx.sentinel(a));
    },
  ).catch(() => undefined);
  // Waits of 100 ms and as much grace: the 400 ms delivery misses both
  // (in the barrier already, or at the sentinel).
  ok(ctx === undefined || ctx.findings.some((f) => f.severity === "fail"));
});
