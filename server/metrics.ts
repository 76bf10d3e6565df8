/**
 * Live counters in the Prometheus text format (version 0.0.4), for
 * `/metrics` on the ops port.
 *
 * @module
 */

/** One metric: its name, help, type, and samples (one per label set). */
export interface MetricFamily {
  /** `linechat_…`; counters end in `_total`, units are in the name. */
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels?: Record<string, string>; value: number }[];
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
    "\n",
    "\\n",
  );
}

/**
 * Renders metric families as Prometheus text.
 *
 * @example
 * ```ts
 * import { formatMetrics } from "./metrics.ts";
 * console.log(formatMetrics([{
 *   name: "linechat_clients",
 *   help: "Clients connected now.",
 *   type: "gauge",
 *   samples: [{ labels: { transport: "tcp" }, value: 2 }],
 * }]));
 * // # HELP linechat_clients Clients connected now.
 * // # TYPE linechat_clients gauge
 * // linechat_clients{transport="tcp"} 2
 * ```
 */
export function formatMetrics(families: readonly MetricFamily[]): string {
  let out = "";
  for (const family of families) {
    out += `# HELP ${family.name} ${family.help}\n`;
    out += `# TYPE ${family.name} ${family.type}\n`;
    for (const { labels, value } of family.samples) {
      const text = labels === undefined
        ? ""
        : `{${
          Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`)
            .join(",")
        }}`;
      out += `${family.name}${text} ${Number.isFinite(value) ? value : 0}\n`;
    }
  }
  return out;
}

/**
 * A counter or gauge with one sample per key of `values`, labelled
 * `label`.
 *
 * @example
 * ```ts
 * import { labelled } from "./metrics.ts";
 * const family = labelled("linechat_closes_total", "Closes.", "counter", "reason", { eof: 3 });
 * console.log(family.samples); // [ { labels: { reason: "eof" }, value: 3 } ]
 * ```
 */
export function labelled(
  name: string,
  help: string,
  type: MetricFamily["type"],
  label: string,
  values: Record<string, number>,
): MetricFamily {
  return {
    name,
    help,
    type,
    samples: Object.entries(values).map(([key, value]) => ({
      labels: { [label]: key },
      value,
    })),
  };
}

/**
 * A metric with a single unlabelled sample.
 *
 * @example
 * ```ts
 * import { single } from "./metrics.ts";
 * console.log(single("linechat_up", "1 while serving.", "gauge", 1).samples[0].value); // 1
 * ```
 */
export function single(
  name: string,
  help: string,
  type: MetricFamily["type"],
  value: number,
): MetricFamily {
  return { name, help, type, samples: [{ value }] };
}
