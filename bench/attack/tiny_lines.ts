/**
 * The `tiny-lines` attack: many clients connect and never read, while two
 * chatters send tiny lines (3 bytes by default) at a high rate, one line
 * per write with TCP_NODELAY, so the server sees many tiny reads and
 * queues a tiny batch per line for every client that does not read. It
 * measures the server's memory over time and whether (and when, and why)
 * the non-readers are cut (PROTOCOL.md §4.6, §4.10).
 *
 * Cuts are seen in the kernel's socket table (any server on this
 * machine), and their reasons in the server's JSON log when it writes
 * linechat's.
 *
 * @module
 */

import { formatBytes, formatCount } from "../units.ts";
import { markedLine, MarkedLineScanner } from "./marked_lines.ts";
import { randomTag } from "./paced_chat.ts";
import {
  type AttackRun,
  closeReasons,
  countsCell,
  type CutTimes,
  cutTimes,
  cutTimesCell,
  percent,
  seconds,
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
import { closedByServer, connectionEnds, readTcpTable } from "./tcp_table.ts";
import type { TargetSpec } from "./target.ts";

/** Options for {@linkcode runTinyLines}. */
export interface TinyLinesOptions {
  /**
   * Clients that connect and never read.
   *
   * @default {300}
   */
  idle?: number;
  /**
   * Lines per second each of the two chatters sends.
   *
   * @default {10000}
   */
  rate?: number;
  /**
   * Bytes per line, terminator excluded.
   *
   * @default {3}
   */
  lineBytes?: number;
  /**
   * How long the chatters send, ms.
   *
   * @default {60000}
   */
  durationMs?: number;
  /**
   * After sending stops, how long the non-readers stay connected while
   * memory and cuts are still watched, ms: a server may cut them only
   * once their output has been stuck for a while. Ends early once all
   * are cut.
   *
   * @default {15000}
   */
  watchMs?: number;
  /**
   * One row of the memory table per this many ms (memory is sampled
   * every second).
   *
   * @default {5000}
   */
  sampleEveryMs?: number;
  /**
   * After sending, how long the chatters wait for each other's lines, ms.
   *
   * @default {2000}
   */
  drainMs?: number;
  /**
   * Called about once a second with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** One second of the attack. */
export interface TinyLinesSample {
  /** Ms from the start of sending. */
  atMs: number;
  /** Server RSS, bytes (null if unknown or gone). */
  rssBytes: number | null;
  /** Non-readers cut so far (seen in the socket table). */
  idleCut: number;
  /** Bytes the kernel holds for the non-readers, both ends together. */
  kernelQueuedBytes: number;
  /** Lines the chatters have sent so far, both together. */
  linesSent: number;
  /** The chatters were still sending (false: the watch after). */
  sending: boolean;
}

/** What {@linkcode runTinyLines} measured. */
export interface TinyLinesResult {
  /** The settings used. */
  config: Required<Omit<TinyLinesOptions, "onProgress">>;
  /** The attack, second by second. */
  samples: TinyLinesSample[];
  rss: {
    /** Before sending began, bytes. */
    startBytes: number | null;
    /** Largest seen, bytes. */
    peakBytes: number | null;
    /** At the end of sending, bytes. */
    endBytes: number | null;
    /** At the end of the watch, bytes. */
    lastBytes: number | null;
  };
  idle: {
    count: number;
    /** Non-readers cut, with when (ms from the start of sending). */
    cut: CutTimes;
    /** Where the cut times come from. */
    cutSource: "server log" | "socket table";
    /** Close reasons from the server's JSON log, when it writes one. */
    closeReasons: Record<string, number> | null;
  };
  chatters: {
    /** Lines each sent. */
    sent: number[];
    /** Lines per second each achieved. */
    linesPerSecond: number[];
    /** Lines each received from the other. */
    received: number[];
  };
  /** The server exited during the attack: when (ms from the start). */
  serverDiedAtMs: number | null;
}

const LF = 0x0a;

interface Chatter {
  conn: Deno.TcpConn;
  sent: number;
  received: number;
  cut: boolean;
  sawProbe: boolean;
}

/**
 * Runs the tiny-lines attack against the target of `spec`.
 *
 * @example
 * ```ts ignore
 * import { runTinyLines } from "./tiny_lines.ts";
 * const { result } = await runTinyLines({ kind: "ours", transport: "deno", env: {} }, { durationMs: 10_000 });
 * console.log(result.rss.peakBytes, result.idle.cut.count);
 * ```
 */
export async function runTinyLines(
  spec: TargetSpec,
  options: TinyLinesOptions = {},
): Promise<AttackRun<TinyLinesResult>> {
  const config = {
    idle: options.idle ?? 300,
    rate: options.rate ?? 10_000,
    lineBytes: options.lineBytes ?? 3,
    durationMs: options.durationMs ?? 60_000,
    watchMs: options.watchMs ?? 15_000,
    sampleEveryMs: options.sampleEveryMs ?? 5000,
    drainMs: options.drainMs ?? 2000,
  };
  const { value, server } = await withTarget(
    spec,
    "as given",
    { stdout: "json-log", ours: { quiet: false, jsonLog: true } },
    async (target) => {
      const idleConns = await connectMany(target, config.idle);
      const idlePorts = new Set(idleConns.map(localPort));
      const chatConns = await connectMany(target, 2);
      const chatters: Chatter[] = chatConns.map((conn) => ({
        conn,
        sent: 0,
        received: 0,
        cut: false,
        sawProbe: false,
      }));
      const tag = randomTag();
      const readers = chatters.map((chatter) => readChatter(chatter, tag));
      let stop = false;
      try {
        await joinChatters(chatters, tag);
        const rss = new RssSampler(target, performance.now(), 0);
        await rss.sample();
        const startBytes = rss.samples.at(-1)?.rssBytes ?? null;
        const t0 = performance.now();
        const epochOffset = Date.now() - t0;
        const line = new Uint8Array(config.lineBytes + 1).fill(0x74); // "t"
        line[config.lineBytes] = LF;
        const senders = chatters.map((chatter) =>
          sendTiny(chatter, line, config.rate, t0, () => stop)
        );
        const samples: TinyLinesSample[] = [];
        const cutAt = new Map<number, number>();
        let serverDiedAtMs: number | null = null;
        let sendSeconds = config.durationMs / 1000;
        const endMs = config.durationMs + config.watchMs;
        // Sending stops at durationMs, whenever the loop gets there.
        const stopIfDue = () => {
          const elapsed = performance.now() - t0;
          if (!stop && elapsed >= config.durationMs) {
            stop = true;
            sendSeconds = elapsed / 1000;
          }
          return elapsed;
        };
        while (stopIfDue() < endMs) {
          const elapsed = performance.now() - t0;
          await sleep(
            Math.min(1000, (stop ? endMs : config.durationMs) - elapsed),
          );
          stopIfDue();
          const atMs = Math.round(performance.now() - t0);
          await rss.sample();
          const table = await readTcpTable();
          const ends = connectionEnds(table, target.port, idlePorts);
          let queued = 0;
          for (const [port, end] of ends) {
            queued += (end.server?.txQueue ?? 0) + (end.client?.rxQueue ?? 0);
            if (!cutAt.has(port) && closedByServer(end)) cutAt.set(port, atMs);
          }
          const linesSent = chatters[0].sent + chatters[1].sent;
          samples.push({
            atMs,
            rssBytes: target.running
              ? rss.samples.at(-1)?.rssBytes ?? null
              : null,
            idleCut: cutAt.size,
            kernelQueuedBytes: queued,
            linesSent,
            sending: !stop,
          });
          options.onProgress?.(
            `tiny-lines ${(atMs / 1000).toFixed(0)} s: server RSS ${
              formatBytes(rss.samples.at(-1)?.rssBytes ?? 0)
            }, ${cutAt.size}/${config.idle} non-readers cut, ${
              formatCount(linesSent)
            } lines sent`,
          );
          if (!target.running) {
            serverDiedAtMs = atMs;
            break;
          }
          if (stop && cutAt.size === config.idle) break;
        }
        if (!stop) sendSeconds = (performance.now() - t0) / 1000;
        stop = true;
        const endEpoch = Date.now();
        await Promise.all(senders);
        rss.stop();
        // The chatters' own lines: each should get all the other sent.
        const drainUntil = performance.now() + config.drainMs;
        while (
          performance.now() < drainUntil &&
          (chatters[0].received < chatters[1].sent ||
            chatters[1].received < chatters[0].sent) &&
          target.running
        ) {
          await sleep(20);
        }
        let cut: CutTimes;
        let cutSource: TinyLinesResult["idle"]["cutSource"];
        const reasons = target.jsonLog
          ? closeReasons(target.events, idlePorts, endEpoch)
          : null;
        if (target.jsonLog) {
          cutSource = "server log";
          cut = cutTimes(
            target.events
              .filter((e) =>
                e.event === "disconnect" && e.atMs <= endEpoch &&
                idlePorts.has(portOf(e.fields.addr))
              )
              .map((e) => e.atMs - epochOffset - t0),
          );
        } else {
          cutSource = "socket table";
          cut = cutTimes([...cutAt.values()]);
        }
        const result: TinyLinesResult = {
          config,
          samples,
          rss: {
            startBytes,
            peakBytes: rss.peakBytes,
            endBytes: samples.findLast((s) => s.sending && s.rssBytes !== null)
              ?.rssBytes ?? null,
            lastBytes: samples.findLast((s) => s.rssBytes !== null)?.rssBytes ??
              null,
          },
          idle: { count: config.idle, cut, cutSource, closeReasons: reasons },
          chatters: {
            sent: chatters.map((c) => c.sent),
            linesPerSecond: chatters.map((c) =>
              Math.round(c.sent / sendSeconds)
            ),
            received: chatters.map((c) => c.received),
          },
          serverDiedAtMs,
        };
        return result;
      } finally {
        stop = true;
        for (const conn of [...idleConns, ...chatConns]) {
          try {
            conn.close();
          } catch {
            // Closed already.
          }
        }
        await within(2000, Promise.all(readers), []);
      }
    },
  );
  return { result: value, servers: [server] };
}

function portOf(addr: unknown): number {
  const text = String(addr ?? "");
  return Number(text.slice(text.lastIndexOf(":") + 1));
}

/** Reads a chatter's connection: counts lines, notices the join probe. */
async function readChatter(chatter: Chatter, tag: string): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  const scanner = new MarkedLineScanner((line) => {
    if (line.kind === "j" && line.fields[0] === tag) chatter.sawProbe = true;
  });
  while (true) {
    let n: number | null;
    try {
      n = await chatter.conn.read(buffer);
    } catch {
      chatter.cut = true;
      return;
    }
    if (n === null) {
      chatter.cut = true;
      return;
    }
    const view = buffer.subarray(0, n);
    if (!chatter.sawProbe) scanner.push(view);
    // Every LF ends one tiny line (the probes are few, and came first).
    for (let i = view.indexOf(LF); i !== -1; i = view.indexOf(LF, i + 1)) {
      chatter.received++;
    }
  }
}

/** Both chatters probe until each has seen the other's probe. */
async function joinChatters(chatters: Chatter[], tag: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!chatters.every((c) => c.sawProbe)) {
    if (performance.now() > deadline || chatters.some((c) => c.cut)) {
      throw new Error("the two chatters could not see each other's lines");
    }
    for (const chatter of chatters) {
      await chatter.conn.write(markedLine("j", [tag]));
    }
    await sleep(100);
  }
  await sleep(50);
  // The probes were counted as lines; only the tiny lines count.
  for (const chatter of chatters) chatter.received = 0;
}

/** Sends `line` at `rate` lines/s, one write per line, until `stopped()`. */
async function sendTiny(
  chatter: Chatter,
  line: Uint8Array,
  rate: number,
  t0: number,
  stopped: () => boolean,
): Promise<void> {
  try {
    while (!stopped()) {
      const due = Math.floor(((performance.now() - t0) * rate) / 1000);
      if (chatter.sent >= due) {
        await sleep(1);
        continue;
      }
      // One write per line, however far behind: many tiny reads is the
      // point of the attack.
      while (chatter.sent < due && !stopped()) {
        await chatter.conn.write(line);
        chatter.sent++;
      }
    }
  } catch {
    chatter.cut = true;
  }
}

/**
 * The tiny-lines report's tables.
 *
 * @example
 * ```ts ignore
 * import { tinyLinesTables } from "./tiny_lines.ts";
 * console.log(tinyLinesTables(result).length); // 2
 * ```
 */
export function tinyLinesTables(result: TinyLinesResult): Table[] {
  const { config, rss, idle, chatters } = result;
  const every = Math.max(1, Math.round(config.sampleEveryMs / 1000));
  const lastSending = result.samples.findLastIndex((s) => s.sending);
  const rows = result.samples.filter((_, i) =>
    (i + 1) % every === 0 || i === lastSending ||
    i === result.samples.length - 1
  );
  const bytes = (n: number | null) => n === null ? "–" : formatBytes(n);
  return [
    {
      title:
        `tiny-lines: ${config.idle} clients that never read; 2 chatters × ${
          formatCount(config.rate)
        } lines/s of ${config.lineBytes} bytes, one line per write, for ${
          seconds(config.durationMs)
        }; then up to ${seconds(config.watchMs)} of watching, no lines sent`,
      rows: [
        [
          "server RSS",
          `${bytes(rss.startBytes)} at start → ${
            bytes(rss.endBytes)
          } when sending stopped, peak ${bytes(rss.peakBytes)}, ${
            bytes(rss.lastBytes)
          } at the end`,
        ],
        [
          "server died",
          result.serverDiedAtMs === null
            ? "no"
            : `yes, seen at ${seconds(result.serverDiedAtMs)}`,
        ],
        [
          "non-readers cut",
          cutTimesCell(idle.cut, idle.count) + ` [${idle.cutSource}]`,
        ],
        [
          "close reasons",
          idle.closeReasons === null
            ? "unknown (no linechat JSON log)"
            : countsCell(idle.closeReasons),
        ],
        [
          "chatters sent",
          chatters.sent.map((n, i) =>
            `${formatCount(n)} (${
              formatCount(chatters.linesPerSecond[i])
            } lines/s)`
          ).join(", "),
        ],
        [
          "chatters got",
          chatters.received.map((n, i) =>
            `${formatCount(n)} of ${formatCount(chatters.sent[1 - i])} (${
              percent(chatters.sent[1 - i] - n, chatters.sent[1 - i])
            } missing)`
          ).join(", "),
        ],
      ],
    },
    {
      title: "tiny-lines over time",
      header: [
        "t",
        "server RSS",
        "non-readers cut",
        "kernel-queued for them",
        "lines sent",
      ],
      rows: rows.map((s) => [
        `${seconds(s.atMs)}${s.sending ? "" : " (watch)"}`,
        bytes(s.rssBytes),
        String(s.idleCut),
        formatBytes(s.kernelQueuedBytes),
        formatCount(s.linesSent),
      ]),
    },
  ];
}

/**
 * One line on what the tiny lines did.
 *
 * @example
 * ```ts ignore
 * import { tinyLinesVerdict } from "./tiny_lines.ts";
 * console.log(tinyLinesVerdict(result));
 * ```
 */
export function tinyLinesVerdict(result: TinyLinesResult): string {
  const { rss, idle } = result;
  const parts = [
    result.serverDiedAtMs === null
      ? "server stayed up"
      : `SERVER DIED at ${seconds(result.serverDiedAtMs)}`,
    `RSS peak ${rss.peakBytes === null ? "–" : formatBytes(rss.peakBytes)}`,
    idle.cut.count === 0
      ? "no non-reader cut"
      : `${idle.cut.count} of ${idle.count} non-readers cut by ${
        seconds(idle.cut.lastMs)
      }`,
  ];
  return parts.join("; ");
}
