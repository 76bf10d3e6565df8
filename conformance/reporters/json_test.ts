import { deepStrictEqual, equal } from "node:assert/strict";
import { REPORT_SCHEMA, validateSchema } from "../schema.ts";
import { fixtureReport } from "./_fixture.ts";
import { formatJson } from "./json.ts";

Deno.test("the JSON report parses back to the report and follows the schema", () => {
  const report = fixtureReport();
  const parsed = JSON.parse(formatJson(report));
  deepStrictEqual(parsed, report);
  deepStrictEqual(validateSchema(parsed, REPORT_SCHEMA), []);
  equal(parsed.schemaVersion, 1);
});

Deno.test("the schema rejects a report with a missing field, a bad verdict or an extra field", () => {
  const report = fixtureReport() as unknown as Record<string, unknown>;
  delete report.summary;
  const cases = report.cases as Record<string, unknown>[];
  cases[0].verdict = "great";
  cases[1].surprise = true;
  const problems = validateSchema(report, REPORT_SCHEMA);
  deepStrictEqual(problems, [
    "$: missing summary",
    '$.cases[0].verdict: "great" is not one of ["fail","flaky","non-strict","skipped","info","pass"]',
    "$.cases[1]: unexpected property surprise",
  ]);
});
