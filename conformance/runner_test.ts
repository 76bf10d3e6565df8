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

Deno.test("a case that throws fails with a message; one that reaches its deadline is timeout, counted, traced; needs are skipped", async () => {
  const server = quietServer();
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      retries: 0,
      cases: [
        synthetic("x.throws", () => Promise.reject(new RangeError("boom"))),
        synthetic("x.hangs", async (ctx) => {
          ctx.note("waiting for ever");
          await new Promise(() => {});
        }, { budgetMs: 1000 }),
        synthetic("x.spawn", async () => {}, { needs: ["spawn"] }),
        synthetic("x.after", async () => {}),
      ],
    });
    const [throws, hangs, spawn, after] = report.cases;
    equal(throws.message, "unexpected error: RangeError: boom");
    equal(hangs.verdict, "timeout");
    equal(hangs.counted, true, "a timeout counts as a failure at its level");
    ok(hangs.message.startsWith("the case reached its deadline of 1 s"));
    ok(
      hangs.trace?.some((e) => e.data === "waiting for ever"),
      "its trace is kept",
    );
    equal(spawn.verdict, "skipped");
    equal(after.verdict, "pass", "the run goes on");
    ok(throws.trace !== undefined, "failures keep their trace");
    equal(report.summary.timeout, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("every run ends within its bound: cases past it are timeout, not run", async () => {
  const server = quietServer();
  try {
    const hang = () => new Promise<void>(() => {});
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      retries: 1,
      deadlineMs: 5000,
      cases: ["a", "b", "c", "d"].map((id) =>
        synthetic(`x.${id}`, hang, { budgetMs: 2000 })
      ),
    });
    equal(report.bound.ms, 5000);
    equal(report.bound.fromDeadline, true);
    ok(
      report.durationMs <= report.bound.ms,
      `${report.durationMs} ms, bound ${report.bound.ms} ms`,
    );
    ok(report.cases.every((c) => c.verdict === "timeout"));
    ok(report.cases.every((c) => c.attempts <= 1), "a timeout is not retried");
    ok(
      report.cases.some((c) => /run reached its bound/.test(c.message)),
      report.cases.map((c) => c.message).join("\n"),
    );
    equal(report.summary.exitCode, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("an INFO case never decides the exit code, whatever its verdict", async () => {
  const server = quietServer();
  try {
    const report = await runConformance({
      targets: [`127.0.0.1:${server.addr.port}`],
      cases: [
        synthetic("x.info", now((ctx) => ctx.fail("the server crashed")), {
          level: "INFO",
        }),
      ],
      retries: 0,
    });
    equal(report.cases[0].verdict, "fail");
    equal(report.cases[0].counted, false);
    equal(report.summary.exitCode, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a selection that matches no case is the harness's error (exit 2), not a pass", async () => {
  await rejects(
    runConformance({ targets: ["127.0.0.1:1"], only: ["nosuch"] }),
    (e: unknown) =>
      e instanceof HarnessError &&
      /no case matches --only nosuch/.test(e.message),
  );
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
