/**
 * The `reset` attack: a client sends a few lines and resets its
 * connection (RST, linger 0) right away, while another client keeps
 * sending so that the server is writing to it when the reset arrives; a
 * third client counts how many of the resetter's lines the room got.
 * Repeated for many rounds. A server that lets the failed write to the
 * resetter throw away what it had not read yet loses those lines
 * (PROTOCOL.md §5.1: lines a client completed before leaving are relayed).
 *
 * @module
 */

import net from "node:net";
import { formatCount } from "../units.ts";
import { markedLine, MarkedLineScanner } from "./marked_lines.ts";
import { randomTag } from "./paced_chat.ts";
import { type AttackRun, percent, seconds, type Table } from "./report.ts";
import { connectMany, sleep, within, withTarget } from "./_run.ts";
import type { TargetSpec } from "./target.ts";

/** Options for {@linkcode runReset}. */
export interface ResetOptions {
  /**
   * Rounds: one resetter each.
   *
   * @default {100}
   */
  rounds?: number;
  /**
   * Lines each resetter sends (in one write) before its reset.
   *
   * @default {5}
   */
  lines?: number;
  /**
   * Resetters per round, all sending and resetting in the same moment,
   * together with a line from the writer (so the server is writing to
   * them as their resets arrive).
   *
   * @default {1}
   */
  parallel?: number;
  /**
   * Lines per second the writer sends, so the server writes to each
   * resetter while its reset arrives.
   *
   * @default {1000}
   */
  writerRate?: number;
  /**
   * After a reset, how long to wait for its lines before the next round,
   * ms (lines that come later still count).
   *
   * @default {500}
   */
  roundWaitMs?: number;
  /**
   * Called every few rounds with a line of progress.
   *
   * @default {undefined}
   */
  onProgress?: (text: string) => void;
}

/** What {@linkcode runReset} measured. */
export interface ResetResult {
  /** The settings used. */
  config: Required<Omit<ResetOptions, "onProgress">>;
  /** Resetters seen in the room that sent their lines and reset. */
  resettersRun: number;
  /** Resetters that never got a line (not in the room within 2 s). */
  resettersNotJoined: number;
  /** Resetters that could not connect. */
  connectErrors: number;
  /** Lines the resetters sent. */
  linesSent: number;
  /** Of those, lines the counter received (each once). */
  delivered: number;
  /** Lines sent and never received. */
  lost: number;
  /** Resetters that lost all their lines, and some of them. */
  resettersAllLost: number;
  resettersSomeLost: number;
  /** Lines received more than once. */
  duplicated: number;
  /** Resetter lines that arrived cut short or altered. */
  malformed: number;
  /** The writer's lines still reached the counter after the last round. */
  roomAliveAfter: boolean;
  /** How long the rounds took, ms. */
  ms: number;
}

/**
 * Runs the reset attack against the target of `spec`.
 *
 * @example
 * ```ts ignore
 * import { runReset } from "./reset.ts";
 * const { result } = await runReset({ kind: "ours", transport: "node", env: {} }, { rounds: 20 });
 * console.log(result.lost, result.linesSent);
 * ```
 */
export async function runReset(
  spec: TargetSpec,
  options: ResetOptions = {},
): Promise<AttackRun<ResetResult>> {
  const config = {
    rounds: options.rounds ?? 100,
    lines: options.lines ?? 5,
    parallel: options.parallel ?? 1,
    writerRate: options.writerRate ?? 1000,
    roundWaitMs: options.roundWaitMs ?? 500,
  };
  const { value, server } = await withTarget(
    spec,
    "as given",
    { stdout: "discard" },
    async (target) => {
      const [counter] = await connectMany(target, 1);
      // The writer is a node:net socket: its writes reach the kernel at
      // once, in the same turn as the resetters' lines and RSTs.
      const writer = await connectNode(target.hostname, target.port);
      if (writer === undefined) throw new Error("the writer could not connect");
      writer.on("data", () => {}); // it reads, so it is never a slow consumer
      const tag = randomTag();
      // Per resetter (round × parallel + i), which of its lines arrived.
      const got: Uint8Array[] = [];
      let duplicated = 0;
      let malformed = 0;
      let writerLinesSeen = 0;
      const resetters = config.rounds * config.parallel;
      const scanner = new MarkedLineScanner((line) => {
        if (line.fields[0] !== tag) return;
        if (line.kind === "w") {
          writerLinesSeen++;
          return;
        }
        if (line.kind !== "r") return;
        const id = Number(line.fields[1]);
        const k = Number(line.fields[2]);
        if (
          line.fields.length !== 4 || line.fields[3] !== "end" ||
          !(id >= 0 && id < resetters) || !(k >= 0 && k < config.lines)
        ) {
          malformed++;
          return;
        }
        got[id] ??= new Uint8Array(config.lines);
        if (got[id][k]++ > 0) duplicated++;
      });
      let closing = false;
      const reading = (async () => {
        const buffer = new Uint8Array(64 * 1024);
        while (true) {
          const n = await counter.read(buffer).catch(() => null);
          if (n === null) return;
          scanner.push(buffer.subarray(0, n));
        }
      })();
      // The writer: `writerRate` lines/s, in whatever batches the timer gives.
      let written = 0;
      const t0 = performance.now();
      const ticker = setInterval(() => {
        if (closing || writer.writableLength > 64 * 1024) return;
        const due = Math.floor(
          ((performance.now() - t0) * config.writerRate) / 1000,
        );
        while (written < due) writer.write(markedLine("w", [tag, written++]));
      }, 5);
      const result: ResetResult = {
        config,
        resettersRun: 0,
        resettersNotJoined: 0,
        connectErrors: 0,
        linesSent: 0,
        delivered: 0,
        lost: 0,
        resettersAllLost: 0,
        resettersSomeLost: 0,
        duplicated: 0,
        malformed: 0,
        roomAliveAfter: false,
        ms: 0,
      };
      try {
        const joinDeadline = performance.now() + 10_000;
        while (writerLinesSeen === 0) {
          if (performance.now() > joinDeadline) {
            throw new Error("the counter never received the writer's lines");
          }
          await sleep(10);
        }
        const start = performance.now();
        const ran: number[] = [];
        for (let round = 0; round < config.rounds; round++) {
          const ids = Array.from(
            { length: config.parallel },
            (_, i) => round * config.parallel + i,
          );
          const sockets = await Promise.all(
            ids.map(() => connectNode(target.hostname, target.port)),
          );
          const joined = await Promise.all(
            sockets.map((socket) => socket ? firstData(socket, 2000) : false),
          );
          // One turn: the writer's line, then every resetter's lines and
          // RST, so the server's writes of that line find the RSTs there.
          writer.write(markedLine("w", [tag, "trigger", round]));
          for (const [i, socket] of sockets.entries()) {
            if (socket === undefined) {
              result.connectErrors++;
              continue;
            }
            if (!joined[i]) {
              result.resettersNotJoined++;
              socket.resetAndDestroy();
              continue;
            }
            sendAndReset(socket, linesOf(tag, ids[i], config.lines));
            result.resettersRun++;
            result.linesSent += config.lines;
            ran.push(ids[i]);
          }
          const until = performance.now() + config.roundWaitMs;
          while (
            performance.now() < until &&
            ids.some((id, i) => joined[i] && count(got[id]) < config.lines)
          ) {
            await sleep(2);
          }
          if ((round + 1) % 10 === 0) {
            options.onProgress?.(`reset: round ${round + 1}/${config.rounds}`);
          }
        }
        result.ms = Math.round(performance.now() - start);
        // Late lines still count; then the room must still relay.
        const before = writerLinesSeen;
        await sleep(1000);
        result.roomAliveAfter = writerLinesSeen > before;
        for (const round of ran) {
          const n = count(got[round]);
          result.delivered += n;
          if (n === 0) result.resettersAllLost++;
          else if (n < config.lines) result.resettersSomeLost++;
        }
        result.lost = result.linesSent - result.delivered;
        result.duplicated = duplicated;
        result.malformed = malformed;
        return result;
      } finally {
        closing = true;
        clearInterval(ticker);
        writer.destroy();
        counter.close();
        await within(2000, reading, undefined);
      }
    },
  );
  return { result: value, servers: [server] };
}

function count(marks: Uint8Array | undefined): number {
  if (marks === undefined) return 0;
  let n = 0;
  for (const mark of marks) if (mark > 0) n++;
  return n;
}

/** Connects a node:net socket (undefined if it cannot). */
function connectNode(
  hostname: string,
  port: number,
): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, 5000);
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/**
 * Resolves true once `socket` receives something (it is in the room and
 * the server writes to it), false after `ms`. It keeps reading after.
 */
function firstData(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on("data", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A resetter's lines: `pr<tag>.<id>.<k>.end`. */
function linesOf(tag: string, id: number, lines: number): Uint8Array {
  const parts = Array.from(
    { length: lines },
    (_, k) => markedLine("r", [tag, id, k, "end"]),
  );
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/**
 * Writes `bytes` and resets (RST: linger 0) at once. node:net hands the
 * bytes to the kernel in the write call when the socket buffer has room
 * (it does here), so they leave ahead of the RST; should they not, the
 * reset waits for them, so a lost line is always the server's doing.
 */
function sendAndReset(socket: net.Socket, bytes: Uint8Array): void {
  socket.write(bytes);
  if (socket.writableLength === 0) socket.resetAndDestroy();
  else socket.write(new Uint8Array(0), () => socket.resetAndDestroy());
}

/**
 * The reset report's table.
 *
 * @example
 * ```ts ignore
 * import { resetTables } from "./reset.ts";
 * console.log(resetTables(result)[0].rows.length);
 * ```
 */
export function resetTables(result: ResetResult): Table[] {
  const c = result.config;
  return [{
    title: `reset: ${c.rounds} rounds of ${
      c.parallel === 1 ? "one client" : `${c.parallel} clients`
    } sending ${c.lines} lines and resetting at once, while a writer sends ${
      formatCount(c.writerRate)
    } lines/s`,
    rows: [
      [
        "resetters",
        `${result.resettersRun} sent and reset in ${seconds(result.ms)}${
          result.resettersNotJoined
            ? `, ${result.resettersNotJoined} resetters never got a line`
            : ""
        }${
          result.connectErrors
            ? `, ${result.connectErrors} could not connect`
            : ""
        }`,
      ],
      [
        "lines",
        `${formatCount(result.linesSent)} sent, ${
          formatCount(result.delivered)
        } delivered`,
      ],
      [
        "lost",
        `${formatCount(result.lost)} (${
          percent(result.lost, result.linesSent)
        }); resetters that lost all their lines: ${result.resettersAllLost}, some: ${result.resettersSomeLost}`,
      ],
      [
        "disorder",
        `${result.duplicated} duplicated, ${result.malformed} malformed`,
      ],
      ["room after", result.roomAliveAfter ? "still relays" : "NOT RELAYING"],
    ],
  }];
}

/**
 * One line on what the resets did.
 *
 * @example
 * ```ts ignore
 * import { resetVerdict } from "./reset.ts";
 * console.log(resetVerdict(result)); // "0 of 500 lines lost (0 %); room still relays"
 * ```
 */
export function resetVerdict(result: ResetResult): string {
  return `${formatCount(result.lost)} of ${
    formatCount(result.linesSent)
  } lines lost (${percent(result.lost, result.linesSent)}); ${
    result.roomAliveAfter ? "room still relays" : "room NOT relaying"
  }`;
}
