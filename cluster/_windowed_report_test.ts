import { deepEqual } from "node:assert/strict";
import { Logger } from "../server/logger.ts";
import { WindowedReport } from "./_windowed_report.ts";

Deno.test("windowed report: the first loss at once, then one line per window with the sums and maxima", async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    format: "json",
    write: (line) => lines.push(JSON.parse(line)),
  });
  const report = new WindowedReport(logger, "cluster-late", { node: "n" }, 50);
  report.add({ lines_late: 2 }, { age_ms: 2100 });
  report.add({ lines_late: 3 }, { age_ms: 2500.4 });
  report.add({ lines_late: 1 }, { age_ms: 2200 });
  const pick = () =>
    lines.map(({ node, lines_late, age_ms }) => ({ node, lines_late, age_ms }));
  deepEqual(pick(), [{ node: "n", lines_late: 2, age_ms: 2100 }]);
  await new Promise((resolve) => setTimeout(resolve, 80));
  deepEqual(pick().slice(1), [{ node: "n", lines_late: 4, age_ms: 2500 }]);
  report.add({ lines_late: 7 }, { age_ms: 1 });
  report.close();
  deepEqual(pick().slice(2), [{ node: "n", lines_late: 7, age_ms: 1 }]);
  report.close();
  deepEqual(lines.length, 3, "nothing owed, nothing written");
});
