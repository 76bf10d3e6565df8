/**
 * The `slowloris` attack: many clients each start a line and never finish
 * it, sending one more byte now and then (so an idle timeout alone does not
 * catch them), while two clients chat. Against our server it runs twice,
 * without and with `--line-timeout` (PROTOCOL.md §4.12), to show whether
 * and when the slow clients are cut, and that no partial line is relayed.
 *
 * @module
 */

import { formatBytes, formatCount, formatMs } from "../units.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import { markedLine } from "./marked_lines.ts";
import { PacedChat } from "./paced_chat.ts";
import {
  type AttackRun,
  closeReasons,
  countsCell,
  type CutTimes,
  cutTimes,
  cutTimesCell,
  latencyCell,
  type ServerRun,
  type Table,
} from "./report.ts";
import {
  connectMany,
  localPort,
  RssSampler,
  sleep,
  within,
  withTarget,
} from "./_run.ts";
import type { Target, TargetSpec } from "./target.ts";

/** Options for {@linkcode runSlowloris}. */
export interface SlowlorisOptions {
  /**
   * Slow clients.
   *
   * @default {200}
   */
  clients?: number;
  /**
   * Each slow client sends one more byte of its line this often, ms.
   *
   * @default {2000}
   */
  dripMs?: number;
  /**
   * How long the attack lasts, ms.
   *
   * @default {12000}
   */
  durationMs?: number;
  /**
   * `--line-timeout` of the second run (our server only), ms.
   *
   * @default {5000}
   */
  lineTimeoutMs?: number;
  /**
   * Called after every run with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** One server run of the attack. */
export interface SlowlorisRun {
  /** `as given`, or the timeout flag added. */
  label: string;
  /** Slow clients the server cut, with when (ms from the start). */
  cut: CutTimes;
  /** Close reasons from the server's JSON log, when it writes one. */
  closeReasons: Record<string, number> | null;
  /** Partial lines of the slow clients that reached the chatters. */
  partialLinesRelayed: number;
  /** The chat during the attack. */
  chat: {
    expected: number;
    delivered: number;
    lost: number;
    latency: LatencySummary;
  };
  /** The server's RSS at the start and its peak, bytes (null if unknown). */
  rssStartBytes: number | null;
  rssPeakBytes: number | null;
}

/** What {@linkcode runSlowloris} measured. */
export interface SlowlorisResult {
  /** The settings used. */
  config: Required<Omit<SlowlorisOptions, "onProgress">>;
  /** One entry per server run. */
  runs: SlowlorisRun[];
}

/**
 * Runs the slowloris attack against the target of `spec` (twice for ours).
 *
 * @example
 * ```ts ignore
 * import { runSlowloris } from "./slowloris.ts";
 * const { result } = await runSlowloris({ kind: "ours", transport: "deno", env: {} });
 * console.log(result.runs.map((r) => r.cut.count));
 * ```
 */
export async function runSlowloris(
  spec: TargetSpec,
  options: SlowlorisOptions = {},
): Promise<AttackRun<SlowlorisResult>> {
  const config = {
    clients: options.clients ?? 200,
    dripMs: options.dripMs ?? 2000,
    durationMs: options.durationMs ?? 12_000,
    lineTimeoutMs: options.lineTimeoutMs ?? 5000,
  };
  const variants: { label: string; flags: string[] }[] = [
    { label: "as given", flags: [] },
  ];
  if (spec.kind === "ours") {
    variants.push({
      label: `--line-timeout ${config.lineTimeoutMs}`,
      flags: ["--line-timeout", String(config.lineTimeoutMs)],
    });
  }
  const runs: SlowlorisRun[] = [];
  const servers: ServerRun[] = [];
  for (const variant of variants) {
    const { value, server } = await withTarget(
      spec,
      variant.label,
      {
        stdout: "json-log",
        ours: { quiet: false, jsonLog: true, flags: variant.flags },
      },
      (target) => slowClients(target, variant.label, config),
    );
    runs.push(value);
    servers.push(server);
    options.onProgress?.(
      `slowloris ${variant.label}: ${value.cut.count}/${config.clients} cut`,
    );
  }
  return { result: { config, runs }, servers };
}

async function slowClients(
  target: Target,
  label: string,
  config: Required<Omit<SlowlorisOptions, "onProgress">>,
): Promise<SlowlorisRun> {
  const chatConns = await connectMany(target, 2);
  let partialLinesRelayed = 0;
  const chat = new PacedChat(chatConns, {
    onMarked: (line) => {
      if (line.kind === "s") partialLinesRelayed++;
    },
  });
  const slow = await connectMany(target, config.clients);
  const ports = new Set(slow.map(localPort));
  const cutAt = new Map<number, number>();
  let closing = false;
  // Reset when the partial lines are out: cut times count from then.
  let t0 = performance.now();
  const readers = slow.map((conn, index) =>
    (async () => {
      const buffer = new Uint8Array(16 * 1024);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) {
          if (!closing) cutAt.set(index, performance.now() - t0);
          return;
        }
      }
    })()
  );
  const rss = new RssSampler(target, t0);
  try {
    if (!(await chat.join())) {
      throw new Error("the two chatters could not see each other's lines");
    }
    chat.start();
    // Each slow client starts a line (marked, so a server that relays
    // part of it is caught) and adds a byte every dripMs, never an LF.
    const writes = slow.map((conn, index) =>
      conn.write(markedLine("s", [chat.tag, index]).subarray(0, -1))
        .catch(() => 0)
    );
    await Promise.all(writes);
    t0 = performance.now();
    const drip = new Uint8Array([0x78]); // "x"
    const dripper = setInterval(() => {
      for (const [index, conn] of slow.entries()) {
        if (!cutAt.has(index)) conn.write(drip).catch(() => {});
      }
    }, config.dripMs);
    await sleep(config.durationMs);
    clearInterval(dripper);
    const endEpoch = Date.now();
    await chat.stopSending();
    await chat.drain(2000);
    rss.stop();
    const a = chat.accounting();
    return {
      label,
      cut: cutTimes([...cutAt.values()]),
      closeReasons: target.jsonLog
        ? closeReasons(target.events, ports, endEpoch)
        : null,
      partialLinesRelayed,
      chat: {
        expected: a.expected,
        delivered: a.delivered,
        lost: a.expected - a.delivered,
        latency: chat.latencyOverall(),
      },
      rssStartBytes: rss.samples[0]?.rssBytes ?? null,
      rssPeakBytes: rss.peakBytes,
    };
  } finally {
    closing = true;
    rss.stop();
    for (const conn of slow) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
    await within(2000, Promise.all(readers), []);
    await chat.close();
  }
}

/**
 * The slowloris report's table: one column per server run.
 *
 * @example
 * ```ts ignore
 * import { slowlorisTables } from "./slowloris.ts";
 * console.log(slowlorisTables(result)[0].header);
 * ```
 */
export function slowlorisTables(result: SlowlorisResult): Table[] {
  const { runs, config } = result;
  const bytes = (n: number | null) => n === null ? "–" : formatBytes(n);
  return [{
    title: `slowloris: ${
      formatCount(config.clients)
    } clients each leave a line unfinished, adding a byte every ${
      formatMs(config.dripMs)
    } ms, for ${config.durationMs / 1000} s, while 2 clients chat`,
    header: ["", ...runs.map((run) => run.label)],
    rows: [
      [
        "slow clients cut",
        ...runs.map((r) => cutTimesCell(r.cut, config.clients)),
      ],
      [
        "close reasons",
        ...runs.map((r) =>
          r.closeReasons === null ? "unknown" : countsCell(r.closeReasons)
        ),
      ],
      [
        "partial lines relayed",
        ...runs.map((r) => String(r.partialLinesRelayed)),
      ],
      [
        "chat",
        ...runs.map((r) =>
          `${formatCount(r.chat.delivered)} of ${
            formatCount(r.chat.expected)
          } delivered`
        ),
      ],
      ["chat latency", ...runs.map((r) => latencyCell(r.chat.latency))],
      [
        "server RSS",
        ...runs.map((r) =>
          `${bytes(r.rssStartBytes)}, peak ${bytes(r.rssPeakBytes)}`
        ),
      ],
    ],
  }];
}

/**
 * One line on what the slow clients did.
 *
 * @example
 * ```ts ignore
 * import { slowlorisVerdict } from "./slowloris.ts";
 * console.log(slowlorisVerdict(result));
 * ```
 */
export function slowlorisVerdict(result: SlowlorisResult): string {
  return result.runs.map((r) =>
    `${r.label}: ${r.cut.count} of ${result.config.clients} cut${
      r.cut.count ? ` by ${((r.cut.lastMs ?? 0) / 1000).toFixed(1)} s` : ""
    }, ${r.chat.lost} chat lines lost${
      r.partialLinesRelayed
        ? `, ${r.partialLinesRelayed} PARTIAL LINES RELAYED`
        : ""
    }`
  ).join("; ");
}
