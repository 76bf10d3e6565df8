/**
 * The `blocked-stdout` attack: the server's stdout is a pipe nobody reads
 * (a paused pager, a stuck log shipper), and thousands of clients connect
 * and leave (half of them resetting at once, often before the server has
 * accepted them: an `accept-error`), each a log line or two, far more
 * than the pipe holds; meanwhile two clients chat. It measures whether
 * the relay and accepts keep working (chat latency, newcomer probes,
 * connects per second), whether the server froze, and whether it still
 * stops on SIGTERM with its stdout blocked.
 *
 * @module
 */

import net from "node:net";
import { formatBytes, formatCount, formatMs } from "../units.ts";
import { markedLine } from "./marked_lines.ts";
import { PacedChat } from "./paced_chat.ts";
import { type AttackRun, latencyCell, seconds, type Table } from "./report.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import { connectMany, sleep, withTarget } from "./_run.ts";
import type { BlockedStdout, TargetExit, TargetSpec } from "./target.ts";

/** Options for {@linkcode runBlockedStdout}. */
export interface BlockedStdoutOptions {
  /**
   * Clients that connect and leave.
   *
   * @default {3000}
   */
  connects?: number;
  /**
   * How many of them connect at once.
   *
   * @default {50}
   */
  batch?: number;
  /**
   * Connects per second at most (batches are spaced to keep it); 0 = as
   * fast as they complete.
   *
   * @default {200}
   */
  connectRate?: number;
  /**
   * Chat lines per second each of the two chatters sends.
   *
   * @default {10}
   */
  rate?: number;
  /**
   * A newcomer probe (connect, send a line, see it relayed) after every
   * this many connects.
   *
   * @default {250}
   */
  probeEvery?: number;
  /**
   * A chat line or probe slower than this, ms, counts as the room frozen.
   *
   * @default {2000}
   */
  freezeMs?: number;
  /**
   * The churn stops after this long even if not every client connected, ms.
   *
   * @default {60000}
   */
  maxMs?: number;
  /**
   * After the churn, how long to wait for chat lines in flight, ms.
   *
   * @default {3000}
   */
  drainMs?: number;
  /**
   * Called at every probe with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** The room at one probe. */
export interface BlockedCheckpoint {
  /** Connects done so far. */
  connects: number;
  /** Ms from the churn's start. */
  atMs: number;
  /** Connects per second since the previous checkpoint. */
  connectsPerSecond: number;
  /**
   * The slowest chat line delivered since the previous checkpoint, ms
   * (null: none was delivered).
   */
  chatMaxMs: number | null;
  /** The newcomer's line took this long to be relayed, ms (null: never). */
  probeMs: number | null;
}

/** What {@linkcode runBlockedStdout} measured. */
export interface BlockedStdoutResult {
  /** The settings used. */
  config: Required<Omit<BlockedStdoutOptions, "onProgress">>;
  churn: {
    /** Clients that connected (and left). */
    connected: number;
    /** Connects that failed or took over 5 s. */
    failed: number;
    /** The slowest connect, ms. */
    maxConnectMs: number;
    /** How long the churn took, ms. */
    ms: number;
    /** Connects per second over the churn. */
    connectsPerSecond: number;
    /** The churn hit `maxMs` before all connects were done. */
    timedOut: boolean;
  };
  /** One row per probe. */
  checkpoints: BlockedCheckpoint[];
  /** The first probe at which the room looked frozen (connects done). */
  frozeAtConnect: number | null;
  chat: {
    linesSent: number;
    expected: number;
    delivered: number;
    lost: number;
    latency: LatencySummary;
  };
  /** A newcomer after the churn: its line relayed in this many ms (null: never). */
  newcomerMs: number | null;
  /** How the server ended on SIGTERM, its stdout still blocked. */
  stop: TargetExit | undefined;
  /** What got through the blocked stdout (read after the stop). */
  stdout: BlockedStdout | undefined;
}

const CONNECT_TIMEOUT_MS = 5000;

/**
 * Runs the blocked-stdout attack; the target must be one it starts.
 *
 * @example
 * ```ts ignore
 * import { runBlockedStdout } from "./blocked_stdout.ts";
 * const { result } = await runBlockedStdout({ kind: "ours", transport: "deno", env: {} });
 * console.log(result.frozeAtConnect, result.churn.connectsPerSecond);
 * ```
 */
export async function runBlockedStdout(
  spec: TargetSpec,
  options: BlockedStdoutOptions = {},
): Promise<AttackRun<BlockedStdoutResult>> {
  const config = {
    connects: options.connects ?? 3000,
    batch: options.batch ?? 50,
    connectRate: options.connectRate ?? 200,
    rate: options.rate ?? 10,
    probeEvery: options.probeEvery ?? 250,
    freezeMs: options.freezeMs ?? 2000,
    maxMs: options.maxMs ?? 60_000,
    drainMs: options.drainMs ?? 3000,
  };
  const { value, server } = await withTarget(
    spec,
    "as given",
    // Not quiet: every connect and leave is a log line, to fill the pipe.
    { stdout: "blocked", ours: { quiet: false } },
    async (target) => {
      const conns = await connectMany(target, 2);
      const probes = new Map<string, () => void>();
      let windowMax = 0;
      let windowCount = 0;
      const chat = new PacedChat(conns, {
        rate: config.rate,
        onMarked: (line) => {
          if (line.kind === "q") probes.get(line.fields.join("."))?.();
        },
        onDelivery: (ms) => {
          windowMax = Math.max(windowMax, ms);
          windowCount++;
        },
      });
      const probe = async (id: string): Promise<number | null> => {
        const t0 = performance.now();
        const key = `${chat.tag}.${id}`;
        const seen = new Promise<void>((resolve) => probes.set(key, resolve));
        let conn: Deno.TcpConn | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const giveUp = new Promise<false>((r) =>
            timer = setTimeout(r, config.freezeMs * 2, false)
          );
          // A frozen server's backlog fills: even connecting may hang.
          const connecting = Deno.connect({
            hostname: target.hostname,
            port: target.port,
          });
          const connected = await Promise.race([connecting, giveUp]);
          if (connected === false) {
            connecting.then((c) => c.close(), () => {});
            return null;
          }
          conn = connected;
          await conn.write(markedLine("q", [chat.tag, id]));
          const ok = await Promise.race([seen.then(() => true), giveUp]);
          return ok ? Math.round(performance.now() - t0) : null;
        } catch {
          return null;
        } finally {
          clearTimeout(timer);
          probes.delete(key);
          conn?.close();
        }
      };
      try {
        if (!(await chat.join())) {
          throw new Error("the two chatters could not see each other's lines");
        }
        chat.start();
        const checkpoints: BlockedCheckpoint[] = [];
        let connected = 0;
        let failed = 0;
        let maxConnectMs = 0;
        const start = performance.now();
        let last = { connects: 0, atMs: 0 };
        let done = 0;
        let timedOut = false;
        while (done < config.connects) {
          if (performance.now() - start > config.maxMs) {
            timedOut = true;
            break;
          }
          if (config.connectRate > 0) {
            const dueMs = (done * 1000) / config.connectRate;
            const wait = start + dueMs - performance.now();
            if (wait > 0) await sleep(wait);
          }
          const n = Math.min(config.batch, config.connects - done);
          const times = await Promise.all(
            Array.from(
              { length: n },
              (_, i) =>
                (done + i) % 2 === 0
                  ? connectAndReset(target.hostname, target.port)
                  : connectAndClose(target.hostname, target.port),
            ),
          );
          for (const ms of times) {
            if (ms === null) failed++;
            else {
              connected++;
              maxConnectMs = Math.max(maxConnectMs, ms);
            }
          }
          const before = done;
          done += n;
          const crossed = Math.floor(done / config.probeEvery) >
            Math.floor(before / config.probeEvery);
          if (crossed || done >= config.connects) {
            const probeMs = await probe(`c${done}`);
            const atMs = Math.round(performance.now() - start);
            checkpoints.push({
              connects: done,
              atMs,
              connectsPerSecond: Math.round(
                ((done - last.connects) * 1000) / Math.max(1, atMs - last.atMs),
              ),
              chatMaxMs: windowCount === 0 ? null : Math.round(windowMax),
              probeMs,
            });
            windowMax = 0;
            windowCount = 0;
            last = { connects: done, atMs };
            options.onProgress?.(
              `blocked-stdout: ${done} connects, probe ${
                probeMs ?? "FAILED"
              } ms`,
            );
          }
        }
        const churnMs = Math.round(performance.now() - start);
        const newcomerMs = await probe("newcomer");
        await chat.stopSending();
        await chat.drain(config.drainMs);
        const a = chat.accounting();
        // Frozen: a probe not relayed in time, a chat line that late, or
        // no chat line at all in a stretch long enough to have several.
        const frozen = checkpoints.find((c, i) =>
          c.probeMs === null || c.probeMs > config.freezeMs ||
          (c.chatMaxMs ?? 0) > config.freezeMs ||
          (c.chatMaxMs === null &&
            c.atMs - (checkpoints[i - 1]?.atMs ?? 0) > config.freezeMs)
        );
        const result: BlockedStdoutResult = {
          config,
          churn: {
            connected,
            failed,
            maxConnectMs: Math.round(maxConnectMs),
            ms: churnMs,
            connectsPerSecond: Math.round((done * 1000) / Math.max(1, churnMs)),
            timedOut,
          },
          checkpoints,
          frozeAtConnect: frozen?.connects ?? null,
          chat: {
            linesSent: a.linesSent,
            expected: a.expected,
            delivered: a.delivered,
            lost: a.expected - a.delivered,
            latency: chat.latencyOverall(),
          },
          newcomerMs,
          stop: undefined,
          stdout: undefined,
        };
        await chat.close();
        // Stopped with its stdout still blocked; read only then.
        result.stop = await target.stop();
        result.stdout = await target.blockedStdout();
        return result;
      } finally {
        await chat.close();
      }
    },
  );
  return { result: value, servers: [server] };
}

/** Connects and closes at once (FIN); resolves with the connect time. */
async function connectAndClose(
  hostname: string,
  port: number,
): Promise<number | null> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname, port });
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<null>((r) => timer = setTimeout(r, CONNECT_TIMEOUT_MS, null)),
    ]);
    if (conn === null) {
      connecting.then((c) => c.close(), () => {});
      return null;
    }
    conn.close();
    return performance.now() - t0;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects and resets (RST, linger 0) as soon as the handshake is done,
 * often before the server has accepted; resolves with the connect time.
 */
function connectAndReset(
  hostname: string,
  port: number,
): Promise<number | null> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, CONNECT_TIMEOUT_MS);
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      socket.resetAndDestroy();
      resolve(ms);
    });
  });
}

/**
 * The blocked-stdout report's tables.
 *
 * @example
 * ```ts ignore
 * import { blockedStdoutTables } from "./blocked_stdout.ts";
 * console.log(blockedStdoutTables(result).length); // 2
 * ```
 */
export function blockedStdoutTables(result: BlockedStdoutResult): Table[] {
  const { config, churn, chat, stop, stdout } = result;
  return [
    {
      title: `blocked-stdout: stdout a pipe nobody reads; ${
        formatCount(config.connects)
      } clients connect and leave (${config.batch} at a time, at most ${
        formatCount(config.connectRate)
      }/s, half with an RST at once) while 2 clients chat at ${config.rate} lines/s`,
      rows: [
        [
          "churn",
          `${formatCount(churn.connected)} of ${
            formatCount(churn.connected + churn.failed)
          } connected in ${seconds(churn.ms)} = ${
            formatCount(churn.connectsPerSecond)
          } connects/s; ${churn.failed} failed or took over 5 s; slowest connect ${
            formatMs(churn.maxConnectMs)
          } ms${
            churn.timedOut
              ? `; stopped at the ${seconds(config.maxMs)} limit`
              : ""
          }`,
        ],
        [
          "room froze",
          result.frozeAtConnect === null
            ? `no (no probe or chat line slower than ${
              formatMs(config.freezeMs)
            } ms)`
            : `YES, by connect ${formatCount(result.frozeAtConnect)}`,
        ],
        [
          "chat",
          `${formatCount(chat.delivered)} of ${
            formatCount(chat.expected)
          } delivered, ${chat.lost} lost`,
        ],
        ["chat latency", latencyCell(chat.latency)],
        [
          "newcomer after",
          result.newcomerMs === null
            ? "its line was NEVER relayed"
            : `joined and relayed in ${result.newcomerMs} ms`,
        ],
        [
          "SIGTERM",
          stop === undefined
            ? "–"
            : stop.diedEarly
            ? `the server had died (code ${stop.code}, signal ${stop.signal})`
            : stop.killed
            ? "did NOT exit; killed"
            : `exited in ${stop.stopMs} ms with code ${stop.code}`,
        ],
        [
          "stdout",
          stdout === undefined
            ? "–"
            : `${formatBytes(stdout.bytes)} (${
              formatCount(stdout.lines)
            } lines) got out; ${
              formatCount(stdout.logDroppedReported)
            } dropped lines reported (log_dropped); shutdown summary ${
              stdout.shutdownLogged ? "got out" : "did not get out"
            }`,
        ],
      ],
    },
    {
      title: "blocked-stdout probes",
      header: [
        "connects",
        "t",
        "connects/s",
        "slowest chat line",
        "newcomer relayed in",
      ],
      rows: result.checkpoints.map((c) => [
        formatCount(c.connects),
        seconds(c.atMs),
        formatCount(c.connectsPerSecond),
        c.chatMaxMs === null
          ? "none delivered"
          : `${formatCount(c.chatMaxMs)} ms`,
        c.probeMs === null ? "NEVER" : `${c.probeMs} ms`,
      ]),
    },
  ];
}

/**
 * One line on what the blocked stdout did.
 *
 * @example
 * ```ts ignore
 * import { blockedStdoutVerdict } from "./blocked_stdout.ts";
 * console.log(blockedStdoutVerdict(result));
 * ```
 */
export function blockedStdoutVerdict(result: BlockedStdoutResult): string {
  const parts = [
    result.frozeAtConnect === null
      ? "room never froze"
      : `ROOM FROZE by connect ${result.frozeAtConnect}`,
    `${formatCount(result.churn.connectsPerSecond)} connects/s`,
    `chat p99 ${
      formatMs(result.chat.latency.p99)
    } ms, ${result.chat.lost} lost`,
    result.stop?.killed
      ? "did not stop on SIGTERM"
      : result.stop && !result.stop.diedEarly
      ? `stopped on SIGTERM in ${result.stop.stopMs} ms`
      : "server died",
  ];
  return parts.join("; ");
}
