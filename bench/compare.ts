/**
 * `deno task compare`: runs the same workloads against our server, the Nim
 * reference servers and `ncat --broker`, and writes
 * `bench/results/<date>.json`, a Markdown report and SVG charts. See
 * `--help` and the README.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseInteger, runMain, UsageError } from "../lib/args.ts";
import { renderCharts, renderMarkdown } from "./compare_report.ts";
import { type CompareResults, runCompare } from "./compare_runner.ts";
import { discoverServers, selectServers } from "./compare_servers.ts";
import { WORKLOADS } from "./compare_workloads.ts";

const USAGE =
  `linechat compare: the same workloads against several chat servers.

Usage: deno task compare [options]

Options:
  --quick              short runs, one round, small client counts (a smoke test, ~1.5 minutes)
  --rounds N           rounds, each running everything once (default 3; 1 with --quick)
  --servers a,b        only these servers (ids: ours, ours-node, ours-2-nodes, book,
                       asyncnet, selectors, ncat)
  --workloads a,b      only these workloads (${
    WORKLOADS.map((w) => w.id).join(", ")
  })
  --out DIR            where results go (default bench/results; a temporary
                       directory with --quick)
  --no-wait            do not wait for other processes to quieten before each
                       run (by default up to 60 s; never with --quick)
  --render FILE.json   only write the report and charts of saved results again
  -h, --help           this text

Writes DIR/<date>.json (every run's full report), DIR/<date>.md (tables,
goals, failures) and DIR/<date>-*.svg (charts). The full comparison takes
about 35 minutes for 5 servers, 50 for all 7.`;

const list = (value: string | undefined) =>
  value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];

await runMain("linechat-compare", async () => {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    strict: true,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      servers: { type: "string" },
      workloads: { type: "string" },
      out: { type: "string" },
      render: { type: "string" },
      "no-wait": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (values.render !== undefined) {
    // Re-render the report of saved results (after a change to the report).
    const path = values.render;
    const saved = JSON.parse(await Deno.readTextFile(path)) as CompareResults;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
    const charts = renderCharts(saved, saved.date);
    for (const chart of charts) {
      await Deno.writeTextFile(`${dir}/${chart.file}`, chart.svg);
    }
    await Deno.writeTextFile(
      `${dir}/${saved.date}.md`,
      renderMarkdown(saved, charts),
    );
    console.log(`wrote ${dir}/${saved.date}.md and ${charts.length} charts`);
    return;
  }
  const rounds = values.rounds === undefined
    ? (values.quick ? 1 : 3)
    : parseInteger("--rounds", values.rounds, { min: 1, max: 100 });
  const workloadIds = list(values.workloads);
  for (const id of workloadIds) {
    if (!WORKLOADS.some((w) => w.id === id)) {
      throw new UsageError(
        `--workloads: unknown "${id}" (have: ${
          WORKLOADS.map((w) => w.id).join(", ")
        })`,
      );
    }
  }
  const workloads = workloadIds.length
    ? WORKLOADS.filter((w) => workloadIds.includes(w.id))
    : WORKLOADS;
  const discovery = await discoverServers();
  let servers;
  try {
    servers = selectServers(discovery.servers, list(values.servers));
  } catch (error) {
    throw new UsageError(`--servers: ${(error as Error).message}`);
  }
  for (const line of discovery.missing) console.error(`not included: ${line}`);
  const out = values.out ??
    (values.quick
      ? await Deno.makeTempDir({ prefix: "linechat-compare-" })
      : new URL("./results", import.meta.url).pathname);
  await Deno.mkdir(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const jsonPath = `${out}/${date}.json`;
  const save = (results: CompareResults) =>
    Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 1) + "\n");
  console.error(
    `compare: ${servers.map((s) => s.id).join(", ")} × ${
      workloads.map((w) => w.id).join(", ")
    }, ${rounds} round(s)${values.quick ? ", quick" : ""} → ${out}`,
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
    waitForQuiet: !values.quick && !values["no-wait"],
    servers,
    missing: discovery.missing,
    workloads,
    rounds,
    quick: values.quick,
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
  const charts = renderCharts(results, date);
  for (const chart of charts) {
    await Deno.writeTextFile(`${out}/${chart.file}`, chart.svg);
  }
  const markdownPath = `${out}/${date}.md`;
  await Deno.writeTextFile(markdownPath, renderMarkdown(results, charts));
  console.log(`wrote ${jsonPath}, ${markdownPath} and ${charts.length} charts`);
  const failed = results.runs.filter((r) => r.status === "failed").length;
  console.log(
    `${results.runs.length} runs: ${
      results.runs.length - failed
    } ok, ${failed} failed (failures are results, not errors)`,
  );
});
