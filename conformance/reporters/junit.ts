/**
 * The JUnit XML reporter: one `<testsuite>` per area, one `<testcase>` per
 * case, `<failure>` for results counted as failures, `<skipped>` for
 * skipped cases, findings and the wire trace in the body.
 *
 * @module
 */

import { escapeMarkup } from "../../lib/markup.ts";
import type { CaseResult, Report } from "../types.ts";
import { findingLines, traceLine } from "./_text.ts";

/**
 * Replaces the characters XML 1.0 cannot carry at all (control characters
 * but tab, LF and CR; U+FFFE, U+FFFF) with U+FFFD. Escaping markup is
 * `escapeMarkup`'s (lib/markup.ts).
 *
 * @example
 * ```ts
 * import { replaceNonXmlChars } from "./junit.ts";
 * console.log(replaceNonXmlChars("a\x00b\tc") === "a\ufffdb\tc"); // true
 * ```
 */
export function replaceNonXmlChars(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "\ufffd");
}

/** Text for XML content or an attribute in either quote. */
function xmlEscape(text: string): string {
  return escapeMarkup(replaceNonXmlChars(text));
}

function testcase(c: CaseResult): string {
  const attrs = `classname="linechat.${xmlEscape(c.area)}" name="${
    xmlEscape(`${c.id} (${c.clause} ${c.level})`)
  }" time="${(c.durationMs / 1000).toFixed(3)}"`;
  const body: string[] = [];
  const details = c.findings.flatMap(findingLines).join("\n");
  if (c.verdict === "skipped") {
    body.push(`<skipped message="${xmlEscape(c.message)}"/>`);
  } else if (c.counted) {
    body.push(
      `<failure type="${c.verdict}" message="${xmlEscape(c.message)}">${
        xmlEscape(details)
      }</failure>`,
    );
  }
  const out: string[] = [];
  if (!c.counted && c.verdict !== "skipped" && c.findings.length > 0) {
    out.push(details);
  }
  if (c.trace) out.push("wire trace:", ...c.trace.map(traceLine));
  if (c.serverOutput) out.push("server output:", c.serverOutput);
  if (out.length > 0) {
    body.push(`<system-out>${xmlEscape(out.join("\n"))}</system-out>`);
  }
  return body.length === 0
    ? `    <testcase ${attrs}/>`
    : `    <testcase ${attrs}>\n      ${
      body.join("\n      ")
    }\n    </testcase>`;
}

/**
 * Formats the report as JUnit XML.
 *
 * @example
 * ```ts ignore
 * import { formatJunit } from "./junit.ts";
 * await Deno.writeTextFile("conformance.xml", formatJunit(report));
 * ```
 */
export function formatJunit(report: Report): string {
  const areas = new Map<string, CaseResult[]>();
  for (const c of report.cases) {
    areas.set(c.area, [...(areas.get(c.area) ?? []), c]);
  }
  const count = (cases: CaseResult[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.counted).length,
    skipped: cases.filter((c) => c.verdict === "skipped").length,
    time: (cases.reduce((n, c) => n + c.durationMs, 0) / 1000).toFixed(3),
  });
  const all = count(report.cases);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="linechat-conformance" tests="${all.tests}" failures="${all.failures}" ` +
    `skipped="${all.skipped}" time="${(report.durationMs / 1000).toFixed(3)}">`,
  ];
  for (const [area, cases] of areas) {
    const n = count(cases);
    lines.push(
      `  <testsuite name="${
        xmlEscape(area)
      }" tests="${n.tests}" failures="${n.failures}" ` +
        `errors="0" skipped="${n.skipped}" time="${n.time}" timestamp="${report.startedAt}">`,
      ...cases.map(testcase),
      "  </testsuite>",
    );
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}
