/**
 * `deno task compare`: runs the same workloads against our server, the
 * Nim reference servers and `ncat --broker` (the servers of
 * `targets/servers.ts`, and compare's own variants), and writes
 * `bench/results/<date>.json`, a Markdown report and SVG charts, each
 * chart checked in headless Chromium. See `--help` and docs/load.md.
 *
 * @module
 */

import { runMain, UsageError } from "../../lib/args.ts";
import { type ChartCheck, checkCharts } from "./chart_check.ts";
import { renderCharts, type ReportChart } from "./charts.ts";
import { COMPARE_USAGE, parseCompareArgs } from "./cli.ts";
import { renderMarkdown } from "./markdown.ts";
import { type CompareResults, runCompare } from "./runner.ts";
import { compareServers } from "./servers.ts";

const RESULTS = new URL("../results", import.meta.url).pathname;

await runMain("linechat-compare", async () => {
  const args = parseCompareArgs(Deno.args);
  if (args.help) {
    console.log(COMPARE_USAGE);
    return;
  }
  if (args.render !== undefined) {
    // Re-render the report of saved results (after a change to the report).
    const path = args.render;
    const saved = JSON.parse(await Deno.readTextFile(path)) as CompareResults;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
    const { charts } = await writeReport(dir, saved, saved.date);
    console.log(`wrote ${dir}/${saved.date}.md and ${charts.length} charts`);
    return;
  }
  let chosen;
  try {
    chosen = await compareServers(args.servers);
  } catch (error) {
    throw new UsageError(`--servers: ${(error as Error).message}`);
  }
  const { servers, missing } = chosen;
  for (const line of missing) console.error(`not included: ${line}`);
  const out = args.out ??
    (args.quick
      ? await Deno.makeTempDir({ prefix: "linechat-compare-" })
      : RESULTS);
  await Deno.mkdir(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const jsonPath = `${out}/${date}.json`;
  const save = (results: CompareResults) =>
    Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 1) + "\n");
  console.error(
    `compare: ${servers.map((s) => s.id).join(", ")} × ${
      args.workloads.map((w) => w.id).join(", ")
    }, ${args.rounds} round(s)${args.quick ? ", quick" : ""} → ${out}`,
  );
  // Ctrl-C (or SIGTERM) stops the run in progress, servers included, and
  // still writes the report of what was measured.
  const abort = new AbortController();
  const onSignal = () => {
    console.error("stopping: writing the results so far");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const results = await runCompare({
    signal: abort.signal,
    waitForQuiet: args.wait,
    servers,
    missing,
    workloads: args.workloads,
    rounds: args.rounds,
    quick: args.quick,
    workers: args.workers,
    onStart: (line) => console.error(`… ${line}`),
    onRun: async (run, partial) => {
      const r = run.report;
      const figure = r
        ? `${
          Math.round(r.window.deliveredPerSecond)
        } deliveries/s, p99 ${r.latency.corrected.p99} ms`
        : "";
      console.error(
        `  ${run.status}${run.reason ? `: ${run.reason}` : ""}${
          run.valid ? "" : run.report ? " (invalid)" : ""
        } ${figure} [${run.seconds} s]`,
      );
      await save(partial);
    },
  });
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await save(results);
  const { charts } = await writeReport(out, results, date);
  console.log(
    `wrote ${jsonPath}, ${out}/${date}.md and ${charts.length} charts`,
  );
  const failed = results.runs.filter((r) => r.status === "failed").length;
  console.log(
    `${results.runs.length} runs: ${
      results.runs.length - failed
    } ok, ${failed} failed (failures are results, not errors)`,
  );
});

/**
 * Writes the charts and the Markdown report of `results` into `dir`,
 * after opening every chart in headless Chromium (`LINECHAT_SCREENSHOTS`
 * names a directory to keep the screenshots in); what it found goes into
 * the report and onto stderr.
 */
async function writeReport(
  dir: string,
  results: CompareResults,
  date: string,
): Promise<{ charts: ReportChart[]; check: ChartCheck }> {
  const charts = renderCharts(results, date);
  for (const chart of charts) {
    await Deno.writeTextFile(`${dir}/${chart.file}`, chart.svg);
  }
  const check = await checkCharts(charts, {
    screenshotDir: Deno.env.get("LINECHAT_SCREENSHOTS"),
  });
  if (check.skipped) console.error(`charts not checked: ${check.skipped}`);
  for (const { file, problem } of check.problems) {
    console.error(`chart ${file}: ${problem}`);
  }
  await Deno.writeTextFile(
    `${dir}/${date}.md`,
    renderMarkdown(results, charts, check),
  );
  return { charts, check };
}
