import { deepStrictEqual, equal } from "node:assert/strict";
import { REPORT_SCHEMA, validateSchema } from "../schema.ts";
import { everyVerdictReport } from "../_fixtures.ts";
import { formatJson } from "./json.ts";

Deno.test("the JSON report parses back to the report and follows the schema", () => {
  const report = everyVerdictReport();
  const parsed = JSON.parse(formatJson(report));
  deepStrictEqual(parsed, report);
  deepStrictEqual(validateSchema(parsed, REPORT_SCHEMA), []);
  equal(parsed.schemaVersion, 2);
});

Deno.test("the schema rejects a report with a missing field, a bad verdict or an extra field", () => {
  const report = everyVerdictReport() as unknown as Record<string, unknown>;
  delete report.summary;
  const cases = report.cases as Record<string, unknown>[];
  cases[0].verdict = "great";
  cases[1].surprise = true;
  const problems = validateSchema(report, REPORT_SCHEMA);
  deepStrictEqual(problems, [
    "$: missing summary",
    '$.cases[0].verdict: "great" is not one of ["pass","non-strict","fail","flaky","timeout","skipped","info"]',
    "$.cases[1]: unexpected property surprise",
  ]);
});
