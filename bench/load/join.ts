/**
 * Join detection: before sending, probe lines (`<tag>!<prober>`) go out
 * until every client has received one from someone else, so that no
 * measured line is missed for being sent before the server let a client
 * into the room. {@linkcode JoinDetector} recognises probes on the
 * receive path; {@linkcode joinRoom} sends them and waits.
 *
 * @module
 */

import { sleep } from "../_async.ts";
import { TAG_LENGTH } from "./payload.ts";
import { writeAll } from "./_util.ts";

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
  readonly conn: Deno.TcpConn;
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
 * import { JoinDetector } from "./join.ts";
 *
 * const join = new JoinDetector("ab12");
 * const line = join.probe(0).subarray(0, -1); // without the LF
 * const client = { index: 1, conn: undefined as unknown as Deno.TcpConn, joined: false, done: false };
 * console.log(join.check(client, line, 0, line.length), client.joined, join.joinedCount); // true true 1
 * ```
 */
export class JoinDetector {
  /** Clients that have received a probe from another client. */
  joinedCount = 0;
  /** When the last probe arrived (`performance.now()`, ms). */
  lastProbeMs = 0;
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
    this.lastProbeMs = performance.now();
    if (prober !== receiver.index && !receiver.joined) {
      receiver.joined = true;
      this.joinedCount++;
    }
    return true;
  }
}

/** Options for {@linkcode joinRoom}. */
export interface JoinOptions {
  /** The receiving clients, in index order. */
  receivers: readonly Joinable[];
  /** The detector their receive path feeds. */
  detector: JoinDetector;
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
 * import { JoinDetector, joinRoom } from "./join.ts";
 * const failure = await joinRoom({ receivers, detector, timeoutMs: 10_000 });
 * ```
 */
export async function joinRoom(options: JoinOptions): Promise<string | null> {
  const { receivers, detector } = options;
  if (receivers.length < 2) return null;
  const deadline = performance.now() + options.timeoutMs;
  const probers = receivers.slice(0, 2);
  const probes = probers.map((p) => detector.probe(p.index));
  let interval = 50;
  let joinedBefore = -1;
  while (detector.joinedCount < receivers.length) {
    if (performance.now() > deadline) {
      return `join timed out: ${
        receivers.length - detector.joinedCount
      } of ${receivers.length} clients never received a line`;
    }
    const gone = receivers.filter((r) => r.done).length;
    if (gone > 0) {
      return `the server closed ${gone} clients before the run started`;
    }
    const writes = probers.map((p, i) =>
      p.done ? undefined : writeAll(p.conn, probes[i]).catch(() => {})
    );
    if (detector.joinedCount === joinedBefore && interval >= 400) {
      // No progress: some handshakes may be unfinished on the server's
      // side (its accept queue overflowed and it dropped our ACK). Data
      // from the client completes them, so the stragglers say something.
      let nudged = 0;
      for (const r of receivers) {
        if (r.joined || r.done || nudged >= 256) continue;
        nudged++;
        writes.push(writeAll(r.conn, detector.probe(r.index)).catch(() => {}));
      }
    }
    joinedBefore = detector.joinedCount;
    await Promise.all(writes);
    const until = performance.now() + interval;
    while (
      detector.joinedCount < receivers.length && performance.now() < until
    ) {
      await sleep(5);
    }
    interval = Math.min(1000, interval * 2);
  }
  // Probes sent before the last client joined may still be on their way
  // (a slow server relays them one recipient at a time): let them
  // arrive, so the measured lines do not queue behind them.
  while (
    performance.now() - detector.lastProbeMs < PROBE_QUIET_MS &&
    performance.now() < deadline
  ) {
    await sleep(10);
  }
  return null;
}
