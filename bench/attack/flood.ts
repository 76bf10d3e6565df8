/**
 * The `flood` attack: one client sends `f\n` as fast as the server takes
 * it, from a worker of its own, while `readers` clients chat at a human
 * pace and read everything as fast as they can. It measures what the
 * flood does to them: readers cut, chat lines lost or late, chat latency,
 * and whether the server slowed or cut the flooder (PROTOCOL.md §4.9).
 *
 * @module
 */

import { formatBytes, formatCount, formatMs } from "../units.ts";
import { cpuShare, sampleThread } from "../../lib/proc_stats.ts";
import { PacedChat } from "./paced_chat.ts";
import {
  type AttackRun,
  closeReasons,
  countsCell,
  type CutTimes,
  cutTimes,
  cutTimesCell,
  latencyCell,
  percent,
  seconds,
  type Table,
} from "./report.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import {
  connectMany,
  localPort,
  RssSampler,
  sleep,
  within,
  withTarget,
} from "./_run.ts";
import type { TargetSpec } from "./target.ts";

/** Options for {@linkcode runFlood}. */
export interface FloodOptions {
  /**
   * Clients that chat and read.
   *
   * @default {50}
   */
  readers?: number;
  /**
   * Chat lines per second each reader sends.
   *
   * @default {10}
   */
  rate?: number;
  /**
   * Chat without a flood first, for the latency to compare with, ms.
   *
   * @default {2000}
   */
  baselineMs?: number;
  /**
   * How long the flood lasts, ms.
   *
   * @default {20000}
   */
  durationMs?: number;
  /**
   * After the flood (and the chat) stop, how long to wait for chat lines
   * still in flight, ms: lines that arrive then are late, not lost.
   *
   * @default {5000}
   */
  drainMs?: number;
  /**
   * The flooder stops after writing this many bytes.
   *
   * @default {4294967296} (4 GiB)
   */
  maxBytes?: number;
  /**
   * Called about once a second with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** Messages the flooder worker receives first. */
export interface FlooderStart {
  type: "start";
  hostname: string;
  port: number;
  maxBytes: number;
  chunkBytes: number;
}

/** The flooder worker's last message. */
export interface FlooderDone {
  type: "done";
  bytesWritten: number;
  bytesRead: number;
  /** Epoch ms. */
  startedAtMs: number;
  /** Epoch ms. */
  endedAtMs: number;
  /** The server ended the flooder's connection (epoch ms). */
  cut: { atMs: number; how: "eof" | "reset"; error?: string } | undefined;
  /** It could not connect. */
  error: string | undefined;
  /** Why it stopped. */
  stoppedBy: "stop" | "max-bytes" | "cut";
}

/** Any message from the flooder worker. */
export type FlooderMessage =
  | { type: "connected"; atMs: number }
  | { type: "progress"; atMs: number; bytes: number }
  | FlooderDone;

/** One interval of the flood's timeline. */
export interface FloodInterval {
  /** End of the interval, ms from the flood's start. */
  atMs: number;
  /** Flood lines per second the server took in the interval. */
  flooderLinesPerSecond: number;
  /** Bytes per second the readers read, all together. */
  readersBytesPerSecond: number;
  /** Readers cut so far. */
  readersCut: number;
  /** Server RSS at the end of the interval, bytes (null if unknown). */
  serverRssBytes: number | null;
}

/** What {@linkcode runFlood} measured. */
export interface FloodResult {
  /** The settings used. */
  config: Required<Omit<FloodOptions, "onProgress">>;
  flooder: {
    /** Lines it wrote (the server took). */
    lines: number;
    /** Bytes it wrote. */
    bytes: number;
    /** How long it flooded, ms. */
    ms: number;
    /** Lines per second over the whole flood. */
    linesPerSecond: number;
    /** Lines per second over the flood's first second. */
    firstSecondLinesPerSecond: number;
    /** The server cut it: when (ms from the flood's start) and how. */
    cut: { atMs: number; how: string } | null;
    /** Why it stopped. */
    stoppedBy: FlooderDone["stoppedBy"];
  };
  readers: {
    count: number;
    /** Readers the server cut, with when (ms from the flood's start). */
    cut: CutTimes;
    /** How they were cut: `eof ×3, reset ×1`. */
    cutHow: Record<string, number>;
    /** Close reasons from the server's JSON log, when it writes one. */
    closeReasons: Record<string, number> | null;
    /** Each reader's read rate during the flood: min, median, max, B/s. */
    readBytesPerSecond: { min: number; median: number; max: number };
  };
  chat: {
    linesSent: number;
    /** Deliveries expected (to every reader connected when sent). */
    expected: number;
    /** Delivered by the end of the flood. */
    deliveredByEnd: number;
    /** Not yet delivered when the flood ended. */
    inFlightAtEnd: number;
    /** Of those, delivered during the drain. */
    late: number;
    /** Never delivered, to readers that stayed connected. */
    lost: number;
    /** Never delivered, to readers the server cut. */
    lostAtCutReaders: number;
    duplicated: number;
    reordered: number;
    /** Latency before the flood, during it, and over all lines. */
    latency: {
      baseline: LatencySummary;
      flood: LatencySummary;
    };
    /** How long the drain waited, ms. */
    drainedMs: number;
  };
  /** The flood, interval by interval. */
  timeline: FloodInterval[];
  /** The server's CPU (share of a core) during the flood, if known. */
  serverCpu: number | null;
  /** The server's peak RSS, bytes, if known. */
  serverRssPeakBytes: number | null;
  /** This process's main thread (the readers) busy share during the flood. */
  harnessMainThreadCpu: number;
}

const FLOOD_CHUNK_BYTES = 64 * 1024;

/**
 * Runs the flood attack against the target of `spec`.
 *
 * @example
 * ```ts ignore
 * import { runFlood } from "./flood.ts";
 * const { result } = await runFlood({ kind: "ours", transport: "deno", env: {} }, { durationMs: 5000 });
 * console.log(result.readers.cut.count, result.chat.lost);
 * ```
 */
export async function runFlood(
  spec: TargetSpec,
  options: FloodOptions = {},
): Promise<AttackRun<FloodResult>> {
  const config = {
    readers: options.readers ?? 50,
    rate: options.rate ?? 10,
    baselineMs: options.baselineMs ?? 2000,
    durationMs: options.durationMs ?? 20_000,
    drainMs: options.drainMs ?? 5000,
    maxBytes: options.maxBytes ?? 4 * 1024 ** 3,
  };
  const { value, server } = await withTarget(
    spec,
    "as given",
    { stdout: "json-log", ours: { quiet: false, jsonLog: true } },
    async (target) => {
      const conns = await connectMany(target, config.readers);
      const ports = new Set(conns.map(localPort));
      const chat = new PacedChat(conns, {
        rate: config.rate,
        phases: ["baseline", "flood"],
      });
      let worker: Worker | undefined;
      try {
        if (!(await chat.join())) {
          throw new Error("not every reader joined the room within 10 s");
        }
        chat.start();
        await sleep(config.baselineMs);

        // The flood.
        chat.setPhase("flood");
        worker = new Worker(
          new URL("./_flooder_worker.ts", import.meta.url),
          { type: "module" },
        );
        const progress: { atMs: number; bytes: number }[] = [];
        let connected: (atMs: number) => void;
        const connectedAt = new Promise<number>((r) => connected = r);
        let finished: (done: FlooderDone) => void;
        const done = new Promise<FlooderDone>((r) => finished = r);
        worker.onmessage = (event: MessageEvent<FlooderMessage>) => {
          const message = event.data;
          if (message.type === "connected") connected(message.atMs);
          else if (message.type === "progress") progress.push(message);
          else {
            connected(Date.now());
            finished(message);
          }
        };
        worker.postMessage(
          {
            type: "start",
            hostname: target.hostname,
            port: target.port,
            maxBytes: config.maxBytes,
            chunkBytes: FLOOD_CHUNK_BYTES,
          } satisfies FlooderStart,
        );
        await connectedAt;
        const early = await within(0, done, undefined);
        if (early?.error) throw new Error(`the flooder ${early.error}`);
        const floodStart = performance.now();
        const epochOffset = Date.now() - floodStart; // epoch = perf + offset
        const rss = new RssSampler(target, floodStart);
        const cpu0 = await target.sample();
        const thread0 = await sampleThread();
        const timeline: FloodInterval[] = [];
        const intervalMs = Math.max(
          1000,
          Math.round(config.durationMs / 10 / 1000) * 1000,
        );
        const readAtStart: number[] = chat.bytesRead();
        let lastBytes = 0;
        let lastRead = sum(readAtStart);
        let lastAt = floodStart;
        let flooderDone: FlooderDone | undefined;
        done.then((d) => flooderDone = d);
        while (
          performance.now() - floodStart < config.durationMs &&
          flooderDone === undefined
        ) {
          await sleep(
            Math.min(
              intervalMs,
              config.durationMs - (performance.now() - floodStart),
            ),
          );
          const now = performance.now();
          const bytes = progress.at(-1)?.bytes ?? 0;
          const read = sum(chat.bytesRead());
          await rss.sample();
          const cutCount = chat.cuts().filter((c) => c !== undefined).length;
          const span = (now - lastAt) / 1000;
          timeline.push({
            atMs: Math.round(now - floodStart),
            flooderLinesPerSecond: Math.round((bytes - lastBytes) / 2 / span),
            readersBytesPerSecond: Math.round((read - lastRead) / span),
            readersCut: cutCount,
            serverRssBytes: rss.samples.at(-1)?.rssBytes ?? null,
          });
          options.onProgress?.(
            `flood ${((now - floodStart) / 1000).toFixed(0)} s: flooder ${
              formatCount((bytes - lastBytes) / 2 / span)
            } lines/s, readers ${
              formatBytes((read - lastRead) / span)
            }/s, ${cutCount} cut`,
          );
          [lastBytes, lastRead, lastAt] = [bytes, read, now];
        }
        const floodEnd = performance.now();
        const readAtEnd = chat.bytesRead();
        const thread1 = await sampleThread();
        const cpu1 = cpu0 === undefined ? undefined : await target.sample();
        worker.postMessage({ type: "stop" });
        await chat.stopSending();
        const atEnd = chat.accounting();
        const flooder = await within(5000, done, undefined);
        const drainedMs = await chat.drain(config.drainMs);
        const after = chat.accounting();
        rss.stop();
        const latency = chat.latency();
        const cuts = chat.cuts();
        const cutMs: number[] = [];
        const cutHow: Record<string, number> = {};
        for (const cut of cuts) {
          if (cut === undefined) continue;
          cutMs.push(cut.atMs - floodStart);
          cutHow[cut.how] = (cutHow[cut.how] ?? 0) + 1;
        }
        const floodSeconds = (floodEnd - floodStart) / 1000;
        const rates = readAtEnd.map((bytes, i) =>
          (bytes - readAtStart[i]) / floodSeconds
        )
          .sort((a, b) => a - b);
        const firstProgress = progress.find((p) =>
          p.atMs - (floodStart + epochOffset) >= 1000
        );
        const result: FloodResult = {
          config,
          flooder: {
            lines: Math.floor((flooder?.bytesWritten ?? lastBytes) / 2),
            bytes: flooder?.bytesWritten ?? lastBytes,
            ms: flooder
              ? flooder.endedAtMs - flooder.startedAtMs
              : Math.round(floodEnd - floodStart),
            linesPerSecond: 0,
            firstSecondLinesPerSecond: firstProgress
              ? Math.round(
                firstProgress.bytes / 2 /
                  ((firstProgress.atMs - (floodStart + epochOffset)) / 1000),
              )
              : 0,
            cut: flooder?.cut
              ? {
                atMs: Math.round(flooder.cut.atMs - epochOffset - floodStart),
                how: flooder.cut.how,
              }
              : null,
            stoppedBy: flooder?.stoppedBy ?? "stop",
          },
          readers: {
            count: config.readers,
            cut: cutTimes(cutMs),
            cutHow,
            closeReasons: target.jsonLog
              ? closeReasons(target.events, ports, floodEnd + epochOffset)
              : null,
            readBytesPerSecond: {
              min: Math.round(rates[0] ?? 0),
              median: Math.round(
                rates[Math.floor((rates.length - 1) / 2)] ?? 0,
              ),
              max: Math.round(rates.at(-1) ?? 0),
            },
          },
          chat: {
            linesSent: after.linesSent,
            expected: after.expected,
            deliveredByEnd: atEnd.delivered,
            inFlightAtEnd: atEnd.expected - atEnd.delivered -
              atEnd.missingAtCutMembers,
            late: after.delivered - atEnd.delivered,
            lost: after.expected - after.delivered - after.missingAtCutMembers,
            lostAtCutReaders: after.missingAtCutMembers,
            duplicated: after.duplicated,
            reordered: after.reordered,
            latency: { baseline: latency.baseline, flood: latency.flood },
            drainedMs,
          },
          timeline,
          serverCpu: cpu0 && cpu1 ? round2(cpuShare(cpu0, cpu1)) : null,
          serverRssPeakBytes: rss.peakBytes,
          harnessMainThreadCpu: round2(cpuShare(thread0, thread1)),
        };
        result.flooder.linesPerSecond = result.flooder.ms > 0
          ? Math.round(result.flooder.lines / (result.flooder.ms / 1000))
          : 0;
        return result;
      } finally {
        worker?.terminate();
        await chat.close();
      }
    },
  );
  return { result: value, servers: [server] };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The flood report's tables.
 *
 * @example
 * ```ts ignore
 * import { floodTables } from "./flood.ts";
 * import { renderTable } from "./report.ts";
 * for (const table of floodTables(result)) console.log(renderTable(table));
 * ```
 */
export function floodTables(result: FloodResult): Table[] {
  const { flooder, readers, chat, config } = result;
  const lostAll = chat.lost + chat.lostAtCutReaders;
  return [
    {
      title:
        `flood: 1 flooder (own worker) against ${config.readers} readers chatting at ${config.rate} lines/s each; ${
          seconds(config.baselineMs)
        } baseline, ${seconds(config.durationMs)} flood, up to ${
          seconds(config.drainMs)
        } drain`,
      rows: [
        [
          "flooder",
          `${formatCount(flooder.linesPerSecond)} lines/s over ${
            seconds(flooder.ms)
          } (${formatCount(flooder.lines)} lines, ${
            formatBytes(flooder.bytes)
          }); first second ${
            formatCount(flooder.firstSecondLinesPerSecond)
          } lines/s`,
        ],
        [
          "flooder cut",
          flooder.cut
            ? `yes, at ${seconds(flooder.cut.atMs)} (${flooder.cut.how})`
            : `no (stopped by ${flooder.stoppedBy})`,
        ],
        ["readers cut", cutTimesCell(readers.cut, readers.count)],
        ...(readers.cut.count > 0
          ? [["  how", countsCell(readers.cutHow)]]
          : []),
        ...(readers.closeReasons !== null
          ? [["  server log", countsCell(readers.closeReasons)]]
          : []),
        [
          "reader read rate",
          `min ${formatBytes(readers.readBytesPerSecond.min)}/s, median ${
            formatBytes(readers.readBytesPerSecond.median)
          }/s, max ${formatBytes(readers.readBytesPerSecond.max)}/s`,
        ],
        [
          "chat lines",
          `${formatCount(chat.linesSent)} sent, ${
            formatCount(chat.expected)
          } deliveries expected`,
        ],
        [
          "  by flood end",
          `${formatCount(chat.deliveredByEnd)} delivered, ${
            formatCount(chat.inFlightAtEnd)
          } in flight`,
        ],
        [
          "  after drain",
          `${formatCount(chat.late)} more arrived late (drain ${
            seconds(chat.drainedMs)
          }); lost ${formatCount(chat.lost)} (${
            percent(chat.lost, chat.expected)
          }) to connected readers, ${
            formatCount(chat.lostAtCutReaders)
          } to cut readers; ${percent(lostAll, chat.expected)} never arrived`,
        ],
        ...(chat.duplicated + chat.reordered > 0
          ? [[
            "  disorder",
            `${chat.duplicated} duplicated, ${chat.reordered} reordered`,
          ]]
          : []),
        ["latency before", latencyCell(chat.latency.baseline)],
        ["latency flood", latencyCell(chat.latency.flood)],
        [
          "server",
          `CPU ${
            result.serverCpu === null
              ? "–"
              : `${Math.round(result.serverCpu * 100)} %`
          } of a core, RSS peak ${
            result.serverRssPeakBytes === null
              ? "–"
              : formatBytes(result.serverRssPeakBytes)
          }`,
        ],
        [
          "harness",
          `main thread (readers) ${
            Math.round(result.harnessMainThreadCpu * 100)
          } % busy`,
        ],
      ],
    },
    {
      title: "flood timeline",
      header: [
        "t",
        "flooder lines/s",
        "readers read/s",
        "readers cut",
        "server RSS",
      ],
      rows: result.timeline.map((row) => [
        seconds(row.atMs),
        formatCount(row.flooderLinesPerSecond),
        `${formatBytes(row.readersBytesPerSecond)}/s`,
        String(row.readersCut),
        row.serverRssBytes === null ? "–" : formatBytes(row.serverRssBytes),
      ]),
    },
  ];
}

/**
 * One line on what the flood did.
 *
 * @example
 * ```ts ignore
 * import { floodVerdict } from "./flood.ts";
 * console.log(floodVerdict(result));
 * ```
 */
export function floodVerdict(result: FloodResult): string {
  const { flooder, readers, chat } = result;
  const never = chat.lost + chat.lostAtCutReaders;
  const parts = [
    flooder.cut
      ? "flooder cut"
      : `flooder not cut (${formatCount(flooder.linesPerSecond)} lines/s)`,
    readers.cut.count === 0
      ? "no reader cut"
      : `${readers.cut.count} of ${readers.count} readers cut`,
    never === 0
      ? "every chat line arrived"
      : `${percent(never, chat.expected)} of chat deliveries never arrived`,
    `chat p99 ${formatMs(chat.latency.baseline.p99)} → ${
      formatMs(chat.latency.flood.p99)
    } ms`,
  ];
  return parts.join("; ");
}
