/**
 * The issue's goals, checked against the comparison's results: our
 * saturation throughput against the book design and ncat, p99 at the
 * fixed load against every reference, memory per idle connection, and
 * the others' p99 with a slow consumer present.
 *
 * @module
 */

import { ratio } from "../statistics.ts";
import { formatBytes, formatMs } from "../units.ts";
import {
  type Cell,
  cellOf,
  firstPoint,
  fitNote,
  median,
  metricSpread,
  shorten,
} from "./cells.ts";
import type { CompareResults } from "./runner.ts";
import { formatTick } from "./svg_chart.ts";

/** One of the issue's goals and whether the measurements meet it. */
export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean | null;
  caveat?: string;
}

/**
 * Checks the issue's goals against the results. A goal whose inputs are
 * missing (a server not run, every run failed) is reported with
 * `met: null`.
 *
 * @example
 * ```ts ignore
 * for (const goal of checkGoals(results)) console.log(goal.goal, goal.met);
 * ```
 */
export function checkGoals(results: CompareResults): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const has = (id: string) => results.servers.some((s) => s.id === id);
  const sat = firstPoint(results, "saturation");
  if (sat !== undefined) {
    const ours = median(
      results,
      "saturation",
      sat,
      "ours",
      "deliveredPerSecond",
    );
    const oursCell = cellOf(results, "saturation", sat, "ours");
    for (
      const [id, factor, text] of [
        ["book", 25, "≥ 25× the Nim book design"],
        ["ncat", 0.8, "≥ 0.8× ncat --broker"],
      ] as const
    ) {
      if (!has(id)) continue;
      const other = median(
        results,
        "saturation",
        sat,
        id,
        "deliveredPerSecond",
      );
      const r = ratio(ours, other);
      const oursCpu = median(
        results,
        "saturation",
        sat,
        "ours",
        "serverCpuPerMillion",
      );
      const otherCpu = median(
        results,
        "saturation",
        sat,
        id,
        "serverCpuPerMillion",
      );
      const efficiency = ratio(otherCpu, oursCpu);
      goals.push({
        goal: `Saturation fan-out at 100 clients: delivered lines/s ${text}`,
        measured: r === undefined
          ? "no ratio (a run failed)"
          : `${r.toFixed(2)}× (${formatTick(ours!)} vs ${
            formatTick(other!)
          } lines/s); CPU per delivery: ${
            efficiency === undefined
              ? "–"
              : `${id} uses ${efficiency.toFixed(2)}× ours`
          }`,
        met: r === undefined ? null : r >= factor,
        caveat: invalidCaveat([
          oursCell,
          cellOf(results, "saturation", sat, id),
        ]),
      });
    }
  }
  const lat = firstPoint(results, "latency");
  // References are the other designs, not variants of ours; without one
  // there is nothing to compare with.
  const references = results.servers.filter((s) => !s.id.startsWith("ours"));
  if (lat !== undefined && references.length > 0) {
    const ours = median(results, "latency", lat, "ours", "p99");
    const refs = references
      .map((s) => ({
        id: s.id,
        p99: median(results, "latency", lat, s.id, "p99"),
      }));
    const measuredRefs = refs.filter((r) => r.p99 !== undefined);
    goals.push({
      goal: "p99 latency at the fixed load no higher than any reference's",
      measured: ours === undefined
        ? "ours has no result"
        : `ours ${formatMs(ours)} ms; ${
          refs.map((r) =>
            `${r.id} ${
              r.p99 === undefined ? "failed" : `${formatMs(r.p99)} ms`
            }`
          ).join(", ")
        }`,
      met: ours === undefined || measuredRefs.length === 0
        ? null
        : measuredRefs.every((r) => ours <= r.p99!),
      caveat: invalidCaveat(
        results.servers.filter((s) =>
          s.id === "ours" || refs.some((r) => r.id === s.id)
        )
          .map((s) => cellOf(results, "latency", lat, s.id)),
      ),
    });
  }
  const idle = firstPoint(results, "idle");
  if (idle !== undefined) {
    const cell = cellOf(results, "idle", idle, "ours");
    const perConnection = metricSpread(cell, "rssPerConnection")?.median;
    const clients = results.workloads.find((w) => w.id === "idle")?.points[0]
      ?.clients;
    goals.push({
      goal: `${
        clients?.toLocaleString("en-US")
      } concurrent clients with ≤ 6 KiB of memory per idle connection`,
      measured: cell.ok.length === 0
        ? `failed: ${cell.failed[0]?.reason ?? "not run"}`
        : `${formatBytes(perConnection ?? NaN)} per connection (slope${
          fitNote(cell) ? `; ${fitNote(cell)}` : ""
        })${cell.invalid.length > 0 ? " †" : ""}`,
      met: cell.ok.length === 0 || perConnection === undefined
        ? false
        : perConnection <= 6 * 1024,
    });
  }
  const slow = results.workloads.find((w) => w.id === "slow-consumer");
  if (slow && slow.points.length >= 2) {
    const [without, withSlow] = slow.points.map((p) => p.label);
    const a = median(results, "slow-consumer", without, "ours", "p99");
    const b = median(results, "slow-consumer", withSlow, "ours", "p99");
    const r = ratio(b, a);
    goals.push({
      goal:
        "With a slow consumer present, the others' p99 within 2× of without",
      measured: r === undefined
        ? "no result"
        : `${formatMs(b!)} ms with vs ${formatMs(a!)} ms without: ${
          r.toFixed(2)
        }×`,
      met: r === undefined ? null : r <= 2,
      caveat: invalidCaveat(
        slow.points.map((p) =>
          cellOf(results, "slow-consumer", p.label, "ours")
        ),
      ),
    });
  }
  return goals;
}

function invalidCaveat(cells: Cell[]): string | undefined {
  const invalid = cells.flatMap((c) => c.invalid);
  if (invalid.length === 0) return undefined;
  const reasons = [...new Set(invalid.flatMap((r) => r.invalidReasons))];
  return `generator-limited in ${invalid.length} run(s): ${
    shorten(reasons[0] ?? "", 100)
  }`;
}
