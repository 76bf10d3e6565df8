// The dialect self-test: each decorating server is judged through its
// dialect, with its real fault still found and the clauses the dialect
// gives up reported not applicable; --detect proposes a dialect that
// judges it the same way, and says "bare" for our own server.

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { ServerProcess } from "../../lib/server_process.ts";
import { detectDialect } from "../dialect/detect.ts";
import type { Dialect } from "../dialect/dialect.ts";
import { formatPretty } from "../reporters/pretty.ts";
import { runConformance } from "../runner.ts";
import type { Report } from "../types.ts";
import { DECORATING_SERVERS } from "./decorating.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const MAIN = "deno run -A conformance/faulty/decorating.ts";

/** Cases that must pass through each dialect (no framing: fewer). */
const CONTROLS = (style: string) =>
  style === "says_raw"
    ? ["relay.basic", "relay.sender-order"]
    : ["relay.basic", "relay.sender-order", "framing.crlf"];

/** The cases the dialect makes not applicable, per style. */
const GIVEN_UP: Record<string, string[]> = {
  addr_echo: ["relay.no-echo", "stream.no-banner"],
  name_prompt: ["stream.no-banner"],
  says_raw: [],
  crlf_only: [],
};

function verdicts(report: Report, ids: string[]): Record<string, string> {
  return Object.fromEntries(
    ids.map((
      id,
    ) => [id, report.cases.find((c) => c.id === id)?.verdict ?? "-"]),
  );
}

function explain(report: Report): string {
  return report.cases.filter((c) => c.verdict !== "pass")
    .map((c) => `${c.id}: ${c.verdict}: ${c.message ?? ""}`).join("\n");
}

function run(style: string, dialect: Dialect | undefined, only: string[]) {
  return runConformance({
    spawn: `${MAIN} --style ${style} --port {port}`,
    cwd: ROOT,
    only,
    retries: 0,
    dialect,
    sendEol: DECORATING_SERVERS[style].sendEol,
  });
}

for (const [style, server] of Object.entries(DECORATING_SERVERS)) {
  Deno.test(`decorating --style ${style}: judged through its dialect, ${server.realFault} still fails`, async () => {
    const skipped = GIVEN_UP[style];
    const controls = CONTROLS(style);
    const report = await run(style, server.dialect, [
      server.realFault,
      ...controls,
      ...skipped,
    ]);
    deepStrictEqual(
      verdicts(report, [server.realFault, ...controls, ...skipped]),
      {
        [server.realFault]: "fail",
        ...Object.fromEntries(controls.map((id) => [id, "pass"])),
        ...Object.fromEntries(skipped.map((id) => [id, "skipped"])),
      },
      explain(report),
    );
    const fault = report.cases.find((c) => c.id === server.realFault)!;
    ok(
      !/decorated/.test(fault.message ?? ""),
      `blamed on decoration: ${fault.message}`,
    );
    for (const id of skipped) {
      const message = report.cases.find((c) => c.id === id)?.message ?? "";
      ok(/not applicable/.test(message), `${id}: ${message}`);
    }
    ok(report.dialect, "the report lists the dialect");
    ok(report.dialect!.relaxations.length > 0);
    const pretty = formatPretty(report);
    ok(pretty.includes("Dialect: judged through it"), pretty);
    equal(report.diagnoses.length, 0, JSON.stringify(report.diagnoses));
  });

  Deno.test(`decorating --style ${style}: --detect proposes a dialect that judges it the same`, async () => {
    const process = new ServerProcess({
      command: `${MAIN} --style ${style} --port {port}`,
      cwd: ROOT,
    });
    await process.start();
    let found;
    try {
      found = await detectDialect({ target: process.target, quietMs: 300 });
    } finally {
      await process.stop();
    }
    equal(found.bare, false, found.evidence.join("\n"));
    equal(found.sendEol, server.sendEol);
    equal(found.dialect.echo ?? false, server.dialect.echo ?? false);
    equal(found.dialect.handshake?.send, server.dialect.handshake?.send);
    const report = await run(style, found.dialect, [
      server.realFault,
      "relay.basic",
    ]);
    deepStrictEqual(
      verdicts(report, [server.realFault, "relay.basic"]),
      { [server.realFault]: "fail", "relay.basic": "pass" },
      `${JSON.stringify(found.dialect)}\n${explain(report)}`,
    );
  });
}

Deno.test("without a dialect, a decorating server fails on its decoration, as before", async () => {
  const report = await run("addr_echo", undefined, ["relay.basic"]);
  equal(verdicts(report, ["relay.basic"])["relay.basic"], "fail");
  equal(report.dialect, undefined);
  ok(report.diagnoses.some((d) => d.id === "decorated"), explain(report));
});

Deno.test("--detect says our server is bare", async () => {
  const process = new ServerProcess({
    command: "deno run -A server/main.ts --port {port} --quiet",
    cwd: ROOT,
  });
  await process.start();
  try {
    const found = await detectDialect({ target: process.target, quietMs: 300 });
    equal(found.bare, true, found.evidence.join("\n"));
    deepStrictEqual(found.dialect, {});
    equal(found.sendEol, "lf");
  } finally {
    await process.stop();
  }
});
