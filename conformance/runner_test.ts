import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { Logger, serve } from "../server/mod.ts";
import { REPORT_SCHEMA, validateSchema } from "./schema.ts";
import type { CaseContext, CaseDefinition } from "./case.ts";
import { HarnessError, selectCases } from "./run_options.ts";
import { runConformance } from "./runner.ts";

/** A case body that does its work synchronously. */
const now = (body: (ctx: CaseContext) => void) => (ctx: CaseContext) => {
  body(ctx);
  return Promise.resolve();
};

function quietServer() {
  return serve({ port: 0, logger: new Logger({ write: () => {} }) });
}

function synthetic(
  id: string,
  run: CaseDefinition["run"],
  extra: Partial<CaseDefinition> = {},
): CaseDefinition {
  return {
    id,
    clause: "§2.1",
    level: "MUST",
    requirement: "synthetic",
    run,
    ...extra,
  };
}

Deno.test("a real run against our in-process server follows the schema", async () => {
  const server = quietServer();
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      only: ["relay.basic", "framing.*", "limits.server-full"],
    });
    deepStrictEqual(
      validateSchema(JSON.parse(JSON.stringify(report)), REPORT_SCHEMA),
      [],
    );
    equal(report.summary.exitCode, 0);
    equal(
      report.cases.find((c) => c.id === "limits.server-full")?.verdict,
      "skipped",
    );
    equal(report.server.outputTerminator, "crlf");
    equal(report.spawn, null);
  } finally {
    await server.shutdown();
  }
});

Deno.test("retries: a timeout failure that then passes is flaky and counted; direct evidence is not retried", async () => {
  const server = quietServer();
  let calls = 0;
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      cases: [
        synthetic(
          "x.timing",
          now((ctx) => {
            if (calls++ === 0) {
              ctx.trace.record("A", "timeout", "no line within 1 ms");
              ctx.fail("nothing arrived in time");
            }
          }),
        ),
        synthetic("x.evidence", now((ctx) => ctx.fail("wrong bytes"))),
        synthetic("x.should", now((ctx) => ctx.fail("worse than it could")), {
          level: "SHOULD",
        }),
      ],
    });
    const [timing, evidence, should] = report.cases;
    equal(timing.verdict, "flaky");
    equal(timing.attempts, 2);
    equal(timing.counted, true);
    ok(timing.findings.some((f) => f.message.startsWith("retried")));
    equal(evidence.verdict, "fail");
    equal(evidence.attempts, 1);
    equal(
      should.verdict,
      "non-strict",
      "a SHOULD case's failure is non-strict",
    );
    equal(report.summary.exitCode, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("--level must runs MUST cases only and does not count non-strict", async () => {
  const server = quietServer();
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      level: "must",
      cases: [
        synthetic("x.must", now((ctx) => ctx.nonStrict("a SHOULD aspect"))),
        synthetic("x.should", async () => {}, { level: "SHOULD" }),
        synthetic("x.info", async () => {}, { level: "INFO" }),
      ],
    });
    deepStrictEqual(report.cases.map((c) => [c.id, c.verdict, c.counted]), [[
      "x.must",
      "non-strict",
      false,
    ]]);
    equal(report.summary.exitCode, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a case that throws, or outlives its budget, fails with a message; needs are skipped", async () => {
  const server = quietServer();
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      retries: 0,
      cases: [
        synthetic("x.throws", () => Promise.reject(new RangeError("boom"))),
        synthetic("x.hangs", () => new Promise(() => {}), { budgetMs: 50 }),
        synthetic("x.spawn", async () => {}, { needs: ["spawn"] }),
      ],
    });
    const [throws, hangs, spawn] = report.cases;
    equal(throws.message, "unexpected error: RangeError: boom");
    ok(hangs.message.startsWith("the case did not finish within 50 ms"));
    equal(spawn.verdict, "skipped");
    ok(throws.trace !== undefined, "failures keep their trace");
  } finally {
    await server.shutdown();
  }
});

Deno.test("the harness refuses to run without a reachable target (exit 2)", async () => {
  await rejects(runConformance({}), HarnessError);
  await rejects(
    runConformance({ targets: ["127.0.0.1:1"] }),
    /cannot connect to 127.0.0.1:1/,
  );
  await rejects(runConformance({ spawn: "sleep 1" }), /must contain \{port\}/);
  await rejects(
    runConformance({ spawn: "exit 3 # {port}" }),
    /server exited \(exit code 3\) before listening/,
  );
});

Deno.test("selectCases filters by level and globs, in suite order", () => {
  const all = selectCases();
  equal(all.length, 52);
  ok(selectCases({ level: "must" }).every((c) => c.level === "MUST"));
  deepStrictEqual(selectCases({ only: ["§2.2"] }).map((c) => c.id), [
    "relay.no-echo",
  ]);
  equal(new Set(all.map((c) => c.id)).size, all.length, "ids are unique");
  ok(
    all.every((c) => /^[a-z-]+\.[a-z0-9-]+$/.test(c.id)),
    "ids are dotted and lower-case",
  );
  ok(all.every((c) => /^§\d\.\d+$/.test(c.clause)), "clauses look like §N.M");
  equal(all[all.length - 1].id, "disconnect.shutdown", "shutdown runs last");
});
