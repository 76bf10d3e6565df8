/**
 * Join detection: before sending, probe lines (`<tag>!<prober>`) go out
 * until every client has received one from someone else, so that no
 * measured line is missed for being sent before the server let a client
 * into the room. {@linkcode JoinDetector} recognises probes on the
 * receive path; {@linkcode joinRoom} sends them and waits, through a
 * {@linkcode JoinRoom}: the clients of this thread
 * ({@linkcode localRoom}), or those of every worker, whose counts add up.
 *
 * @module
 */

import { sleep } from "../_async.ts";
import type { LoadConnection } from "./connection.ts";
import { TAG_LENGTH } from "./payload.ts";

const BANG = 0x21; // "!" marks a join probe: `<tag>!<prober>`
const ZERO = 0x30;

/**
 * After the join, how long no probe must arrive before sending starts, ms.
 *
 * @example
 * ```ts
 * import { PROBE_QUIET_MS } from "./join.ts";
 * console.log(PROBE_QUIET_MS); // 200
 * ```
 */
export const PROBE_QUIET_MS = 200;

/** A client as the join sees it. */
export interface Joinable {
  /** Its number, in the order connections completed. */
  readonly index: number;
  /** Its connection. */
  readonly conn: LoadConnection;
  /** Whether it has received a probe from someone else. */
  joined: boolean;
  /** Whether its connection has ended. */
  done: boolean;
}

/**
 * Recognises this run's probes and counts the clients that received one
 * from another client.
 *
 * @example
 * ```ts
 * import type { LoadConnection } from "./connection.ts";
 * import { JoinDetector } from "./join.ts";
 *
 * const join = new JoinDetector("ab12");
 * const line = join.probe(0).subarray(0, -1); // without the LF
 * const client = { index: 1, conn: undefined as unknown as LoadConnection, joined: false, done: false };
 * console.log(join.check(client, line, 0, line.length), client.joined, join.joinedCount); // true true 1
 * ```
 */
export class JoinDetector {
  /** Clients that have received a probe from another client. */
  joinedCount = 0;
  /**
   * When the last probe arrived, epoch ms (`performance.timeOrigin +
   * performance.now()`: the same in every thread).
   */
  lastProbeEpochMs = 0;
  readonly #tag: string;
  readonly #tagBytes: Uint8Array;
  readonly #encoder = new TextEncoder();

  /** Probes of the run tagged `tag`. */
  constructor(tag: string) {
    this.#tag = tag;
    this.#tagBytes = this.#encoder.encode(tag);
  }

  /** The probe line (with LF) client `prober` sends. */
  probe(prober: number): Uint8Array {
    return this.#encoder.encode(`${this.#tag}!${prober}\n`);
  }

  /**
   * Whether `bytes[start, end)` is one of this run's probes; if it is and
   * another client sent it, `receiver` has joined.
   */
  check(
    receiver: Joinable,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    const tag = this.#tagBytes;
    if (end - start < TAG_LENGTH + 2 || bytes[start + TAG_LENGTH] !== BANG) {
      return false;
    }
    for (let i = 0; i < TAG_LENGTH; i++) {
      if (bytes[start + i] !== tag[i]) return false;
    }
    let prober = 0;
    for (let i = start + TAG_LENGTH + 1; i < end; i++) {
      const digit = bytes[i] - ZERO;
      if (digit < 0 || digit > 9) return false;
      prober = prober * 10 + digit;
    }
    this.lastProbeEpochMs = epochMs();
    if (prober !== receiver.index && !receiver.joined) {
      receiver.joined = true;
      this.joinedCount++;
    }
    return true;
  }
}

/** Epoch milliseconds, precise to the microsecond, in any thread. */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The clients as {@linkcode joinRoom} sees them: counts, and probes sent
 * on request. Workers' rooms add up.
 */
export interface JoinRoom {
  /** Receiving clients in all. */
  readonly clients: number;
  /** How many have received a probe from someone else. */
  joined(): number;
  /** How many the server has closed. */
  gone(): number;
  /** When the last probe arrived, epoch ms (0: none yet). */
  lastProbeEpochMs(): number;
  /** Sends a probe from each of these clients (those held here). */
  probe(clients: readonly number[]): Promise<void>;
  /** Sends a probe from at most `max` clients that have not joined. */
  nudge(max: number): Promise<void>;
}

/**
 * The room made of one thread's receivers and their detector.
 *
 * @example
 * ```ts ignore
 * import { localRoom, joinRoom } from "./join.ts";
 * await joinRoom({ room: localRoom(receivers.receivers, detector), timeoutMs: 10_000 });
 * ```
 */
export function localRoom(
  receivers: readonly Joinable[],
  detector: JoinDetector,
  clients: number = receivers.length,
): JoinRoom {
  const write = (r: Joinable) =>
    r.done
      ? undefined
      : r.conn.writeLines(detector.probe(r.index)).catch(() => {});
  return {
    clients,
    joined: () => detector.joinedCount,
    gone: () => receivers.filter((r) => r.done).length,
    lastProbeEpochMs: () => detector.lastProbeEpochMs,
    probe: async (indices) => {
      await Promise.all(
        receivers.filter((r) => indices.includes(r.index)).map(write),
      );
    },
    nudge: async (max) => {
      const writes = [];
      for (const r of receivers) {
        if (writes.length >= max) break;
        if (!r.joined && !r.done) writes.push(write(r));
      }
      await Promise.all(writes);
    },
  };
}

/** Options for {@linkcode joinRoom}. */
export interface JoinOptions {
  /** The clients: this thread's ({@linkcode localRoom}) or every worker's. */
  room: JoinRoom;
  /** How long the join may take, ms. */
  timeoutMs: number;
}

/**
 * Sends probes from clients 0 and 1 (and, when nothing moves, from the
 * stragglers too) until every client has received one from someone else,
 * then waits until probes stop arriving. Returns why it failed, or null.
 *
 * @example
 * ```ts ignore
 * import { joinRoom, localRoom } from "./join.ts";
 * const failure = await joinRoom({ room: localRoom(receivers, detector), timeoutMs: 10_000 });
 * ```
 */
export async function joinRoom(options: JoinOptions): Promise<string | null> {
  const { room } = options;
  const total = room.clients;
  if (total < 2) return null;
  const deadline = performance.now() + options.timeoutMs;
  let interval = 50;
  let joinedBefore = -1;
  while (room.joined() < total) {
    if (performance.now() > deadline) {
      return `join timed out: ${
        total - room.joined()
      } of ${total} clients never received a line`;
    }
    const gone = room.gone();
    if (gone > 0) {
      return `the server closed ${gone} clients before the run started`;
    }
    const writes = [room.probe([0, 1])];
    if (room.joined() === joinedBefore && interval >= 400) {
      // No progress: some handshakes may be unfinished on the server's
      // side (its accept queue overflowed and it dropped our ACK). Data
      // from the client completes them, so the stragglers say something.
      writes.push(room.nudge(256));
    }
    joinedBefore = room.joined();
    await Promise.all(writes);
    const until = performance.now() + interval;
    while (room.joined() < total && performance.now() < until) {
      await sleep(5);
    }
    interval = Math.min(1000, interval * 2);
  }
  // Probes sent before the last client joined may still be on their way
  // (a slow server relays them one recipient at a time): let them
  // arrive, so the measured lines do not queue behind them.
  while (
    epochMs() - room.lastProbeEpochMs() < PROBE_QUIET_MS &&
    performance.now() < deadline
  ) {
    await sleep(10);
  }
  return null;
}
