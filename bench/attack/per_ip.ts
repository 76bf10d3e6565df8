/**
 * The `per-ip` attack: one address opens connections until the server
 * refuses one (accepts and closes it at once) or a cap is reached. Against
 * our server it runs twice, without and with `--max-clients-per-ip`
 * (PROTOCOL.md §4.12), to show how many got in each time.
 *
 * @module
 */

import { formatCount } from "../units.ts";
import { markedLine, MarkedLineScanner } from "./marked_lines.ts";
import { randomTag } from "./paced_chat.ts";
import type { AttackRun, ServerRun, Table } from "./report.ts";
import { sleep, within, withTarget } from "./_run.ts";
import type { Target, TargetSpec } from "./target.ts";

/** Options for {@linkcode runPerIp}. */
export interface PerIpOptions {
  /**
   * The most connections opened.
   *
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * `--max-clients-per-ip` of the second run (our server only).
   *
   * @default {100}
   */
  limit?: number;
  /**
   * Connections opened at once.
   *
   * @default {50}
   */
  batch?: number;
  /**
   * Called after every run with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** One server run of the attack. */
export interface PerIpRun {
  /** `as given`, or the limit flag added. */
  label: string;
  /** Connections opened (connect succeeded). */
  opened: number;
  /** Connects that failed. */
  connectErrors: number;
  /** Still open at the end: they got in. */
  admitted: number;
  /** Closed by the server at once: refused. */
  refused: number;
  /** The first refused connection's number (1-based), if any. */
  firstRefused: number | null;
  /** Two admitted clients could still chat at the end. */
  relays: boolean;
}

/** What {@linkcode runPerIp} measured. */
export interface PerIpResult {
  /** The settings used. */
  config: Required<Omit<PerIpOptions, "onProgress">>;
  /** One entry per server run. */
  runs: PerIpRun[];
}

/**
 * Runs the per-ip attack against the target of `spec` (twice for ours).
 *
 * @example
 * ```ts ignore
 * import { runPerIp } from "./per_ip.ts";
 * const { result } = await runPerIp({ kind: "ours", transport: "deno", env: {} }, { limit: 20 });
 * console.log(result.runs.map((r) => r.admitted)); // [1000, 20]
 * ```
 */
export async function runPerIp(
  spec: TargetSpec,
  options: PerIpOptions = {},
): Promise<AttackRun<PerIpResult>> {
  const config = {
    maxConnections: options.maxConnections ?? 1000,
    limit: options.limit ?? 100,
    batch: options.batch ?? 50,
  };
  const variants: { label: string; flags: string[] }[] = [
    { label: "as given", flags: [] },
  ];
  if (spec.kind === "ours") {
    variants.push({
      label: `--max-clients-per-ip ${config.limit}`,
      flags: ["--max-clients-per-ip", String(config.limit)],
    });
  }
  const runs: PerIpRun[] = [];
  const servers: ServerRun[] = [];
  for (const variant of variants) {
    const { value, server } = await withTarget(
      spec,
      variant.label,
      { ours: { quiet: true, flags: variant.flags } },
      (target) => fillFromOneAddress(target, variant.label, config),
    );
    runs.push(value);
    servers.push(server);
    options.onProgress?.(
      `per-ip ${variant.label}: ${value.admitted} got in, ${value.refused} refused`,
    );
  }
  return { result: { config, runs }, servers };
}

async function fillFromOneAddress(
  target: Target,
  label: string,
  config: Required<Omit<PerIpOptions, "onProgress">>,
): Promise<PerIpRun> {
  const conns: Deno.TcpConn[] = [];
  const closedAt = new Set<number>(); // indexes of connections the server closed
  let closing = false;
  const readers: Promise<void>[] = [];
  const tag = randomTag();
  let relayed = false;
  const scanner = new MarkedLineScanner((line) => {
    if (line.fields[0] === tag) relayed = true;
  });
  const watch = (conn: Deno.TcpConn, index: number) =>
    (async () => {
      const buffer = new Uint8Array(4096);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) {
          if (!closing) closedAt.add(index);
          return;
        }
        if (index === 1) scanner.push(buffer.subarray(0, n));
      }
    })();
  let connectErrors = 0;
  try {
    while (conns.length < config.maxConnections && closedAt.size === 0) {
      const n = Math.min(config.batch, config.maxConnections - conns.length);
      const batch = await Promise.all(
        Array.from(
          { length: n },
          () =>
            Deno.connect({ hostname: target.hostname, port: target.port })
              .catch(() => undefined),
        ),
      );
      for (const conn of batch) {
        if (conn === undefined) {
          connectErrors++;
          continue;
        }
        readers.push(watch(conn, conns.length));
        conns.push(conn);
      }
      if (connectErrors > 0) break;
      // Time for the server to accept and, over its limit, close.
      await sleep(100);
    }
    await sleep(500);
    const admitted = conns.length - closedAt.size;
    const refusedIndexes = [...closedAt].sort((a, b) => a - b);
    // Two clients that got in still chat.
    const open = conns.map((_, i) => i).filter((i) => !closedAt.has(i));
    if (open[0] === 0 && open[1] === 1) {
      await conns[0].write(markedLine("q", [tag])).catch(() => {});
      const deadline = performance.now() + 2000;
      while (!relayed && performance.now() < deadline) await sleep(10);
    }
    return {
      label,
      opened: conns.length,
      connectErrors,
      admitted,
      refused: closedAt.size,
      firstRefused: refusedIndexes.length ? refusedIndexes[0] + 1 : null,
      relays: relayed,
    };
  } finally {
    closing = true;
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
    await within(2000, Promise.all(readers), []);
  }
}

/**
 * The per-ip report's table: one column per server run.
 *
 * @example
 * ```ts
 * import { perIpTables } from "./per_ip.ts";
 * const run = { label: "as given", opened: 10, connectErrors: 0, admitted: 10,
 *   refused: 0, firstRefused: null, relays: true };
 * const [table] = perIpTables({ config: { maxConnections: 10, limit: 5, batch: 5 }, runs: [run] });
 * console.log(table.rows[1]); // ["got in", "10"]
 * ```
 */
export function perIpTables(result: PerIpResult): Table[] {
  const { runs, config } = result;
  return [{
    title: `per-ip: one address opens up to ${
      formatCount(config.maxConnections)
    } connections (${config.batch} at a time) until one is refused`,
    header: ["", ...runs.map((run) => run.label)],
    rows: [
      ["opened", ...runs.map((r) => formatCount(r.opened))],
      ["got in", ...runs.map((r) => formatCount(r.admitted))],
      ["refused", ...runs.map((r) => formatCount(r.refused))],
      [
        "first refused",
        ...runs.map((r) =>
          r.firstRefused === null ? "–" : `#${r.firstRefused}`
        ),
      ],
      ["connect errors", ...runs.map((r) => String(r.connectErrors))],
      ["room still relays", ...runs.map((r) => r.relays ? "yes" : "NO")],
    ],
  }];
}

/**
 * One line on what the per-address flood did.
 *
 * @example
 * ```ts
 * import { perIpVerdict } from "./per_ip.ts";
 * const run = { label: "as given", opened: 10, connectErrors: 0, admitted: 10,
 *   refused: 0, firstRefused: null, relays: true };
 * console.log(perIpVerdict({ config: { maxConnections: 10, limit: 5, batch: 5 }, runs: [run] }));
 * // "as given: 10 of 10 got in"
 * ```
 */
export function perIpVerdict(result: PerIpResult): string {
  return result.runs.map((r) =>
    `${r.label}: ${formatCount(r.admitted)} of ${formatCount(r.opened)} got in${
      r.firstRefused === null ? "" : `, refused from #${r.firstRefused}`
    }${r.relays ? "" : ", room NOT relaying"}`
  ).join("; ");
}
