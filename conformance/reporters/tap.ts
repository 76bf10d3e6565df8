/**
 * The TAP reporter (TAP version 13): one test point per case, a YAML
 * block with the findings for those that did not pass.
 *
 * @module
 */

import type { Report } from "../types.ts";
import { findingLines } from "./_text.ts";

/**
 * Formats the report as TAP 13. A result counted as a failure is
 * `not ok`; a skipped case is `ok … # SKIP reason`; a non-strict result
 * that does not count at the selected level is `ok` with a `non-strict`
 * note.
 *
 * @example
 * ```ts ignore
 * import { formatTap } from "./tap.ts";
 * console.log(formatTap(report));
 * ```
 */
export function formatTap(report: Report): string {
  const out = ["TAP version 13", `1..${report.cases.length}`];
  report.cases.forEach((c, i) => {
    const name = `${c.id} ${c.clause} ${c.level} - ${oneLine(c.requirement)}`;
    if (c.verdict === "skipped") {
      out.push(`ok ${i + 1} - ${name} # SKIP ${oneLine(c.message)}`);
      return;
    }
    const note = c.verdict === "pass"
      ? ""
      : ` (${c.verdict}: ${oneLine(c.message)})`;
    out.push(`${c.counted ? "not ok" : "ok"} ${i + 1} - ${name}${note}`);
    if (c.verdict !== "pass" && c.verdict !== "info") {
      out.push("  ---");
      out.push(`  verdict: ${JSON.stringify(c.verdict)}`);
      out.push(`  message: ${JSON.stringify(c.message)}`);
      out.push("  findings:");
      for (const finding of c.findings) {
        for (const line of findingLines(finding)) {
          out.push(`    - ${JSON.stringify(line)}`);
        }
      }
      out.push(`  durationMs: ${c.durationMs}`);
      out.push("  ...");
    }
  });
  const s = report.summary;
  out.push(
    `# ${s.total} cases: ${s.pass} pass, ${
      s["non-strict"]
    } non-strict, ${s.fail} fail, ` +
      `${s.flaky} flaky, ${s.timeout} timeout, ${s.skipped} skipped, ${s.info} info`,
  );
  return `${out.join("\n")}\n`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/#/g, "＃");
}
