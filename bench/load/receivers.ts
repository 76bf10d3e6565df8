/**
 * The receive path: one read loop per connection over a fixed buffer
 * (TCP and TLS) or one handler per message (WebSocket: a message is a
 * line), the protocol's {@linkcode LineSplitter}, a byte-level payload
 * decoder that allocates nothing, and the accounting of every line. It is
 * lean on purpose: one thread may hold 10,000 connections and take in
 * millions of lines a second.
 *
 * A {@linkcode ReceiverSet} owns its connections and its
 * {@linkcode DeliveryTally}; each worker's set counts its own receivers,
 * and their tallies merge exactly.
 *
 * @module
 */

import { LineSplitter } from "../../protocol/line_splitter.ts";
import {
  DeliveryTally,
  DUPLICATE,
  GapBudget,
  REORDERED,
  SequenceTracker,
} from "./accounting.ts";
import type { RunClock } from "./clock.ts";
import type { LineConn } from "../../client/chat_client.ts";
import type { LoadConnection, StreamConnection } from "./connection.ts";
import type { Joinable, JoinDetector } from "./join.ts";
import type { LoadPhase } from "./options.ts";
import { PayloadDecoder } from "./payload.ts";
import type { Timeline } from "./timeline.ts";
import type { WindowBounds } from "./window.ts";

/**
 * One receiving client: its connection, framer and sequence tracking.
 *
 * @example
 * ```ts
 * import { GapBudget } from "./accounting.ts";
 * import type { LoadConnection } from "./connection.ts";
 * import { Receiver } from "./receivers.ts";
 * const receiver = new Receiver(3, undefined as unknown as LoadConnection, 2, 1024, new GapBudget());
 * console.log(receiver.index, receiver.sequence.high); // 3 Float64Array(2) [ -1, -1 ]
 * ```
 */
export class Receiver implements Joinable {
  /** Its client number (the first `senders` clients send too). */
  readonly index: number;
  /** Its connection. */
  readonly conn: LoadConnection;
  /** Frames what it reads. */
  readonly splitter: LineSplitter;
  /** What it has seen of each sender. */
  readonly sequence: SequenceTracker;
  /** Whether it has received a probe from someone else. */
  joined = false;
  /** Whether its connection has ended. */
  done = false;

  /** A receiver numbered `index` on `conn`. */
  constructor(
    index: number,
    conn: LoadConnection,
    senders: number,
    maxLineBytes: number,
    gaps: GapBudget,
  ) {
    this.index = index;
    this.conn = conn;
    this.splitter = new LineSplitter({ maxLineBytes });
    this.sequence = new SequenceTracker(senders, gaps);
  }
}

/** Options for {@linkcode ReceiverSet}. */
export interface ReceiverSetOptions {
  /** The run's tag (lines without it are foreign). */
  tag: string;
  /** Bytes per payload line, terminator excluded. */
  size: number;
  /** How many of the receivers send (the first ones). */
  senders: number;
  /** The run's clock. */
  clock: RunClock;
  /** The measured window: which deliveries and latencies count. */
  window: WindowBounds;
  /** Recognises join probes among the lines that are not payloads. */
  join: JoinDetector;
  /** The phase now, to say when the server closed a client. */
  phase: () => LoadPhase;
  /** Read buffer per connection, bytes. */
  readBufferBytes: number;
  /** Longest line accepted; longer ones are malformed. */
  maxLineBytes: number;
  /**
   * Called after each read has been accounted for (closed-loop senders
   * wait on deliveries).
   *
   * @default {undefined}
   */
  onRead?: () => void;
  /**
   * Gap entries these receivers may remember in all.
   *
   * @default {new GapBudget()}
   */
  gaps?: GapBudget;
  /**
   * Where the per-sender delivery counts live (a worker's row of the
   * shared status board, which senders in every worker read).
   *
   * @default {an array of its own}
   */
  bySender?: Float64Array;
  /**
   * With `--payload-file`: the bodies the lines carry.
   *
   * @default {undefined: lines padded to `size`}
   */
  bodies?: readonly Uint8Array[];
}

/**
 * The receiving clients and what they counted.
 *
 * @example
 * ```ts ignore
 * import { ReceiverSet } from "./receivers.ts";
 * const receivers = new ReceiverSet({ tag, size: 64, senders: 1, clock, window, join, phase: () => "run", readBufferBytes: 16384, maxLineBytes: 1 << 20 });
 * receivers.add(await Deno.connect({ port: 7687 }));
 * // … later
 * await receivers.close();
 * console.log(receivers.tally.summary());
 * ```
 */
export class ReceiverSet {
  /** The receivers, in index order. */
  readonly receivers: Receiver[] = [];
  /** What they counted. */
  readonly tally: DeliveryTally;
  /** Clients the server closed, by the phase it happened in. */
  readonly disconnects: Record<string, number> = {};
  /** Clients the server closed in all. */
  disconnectTotal = 0;
  readonly #options: ReceiverSetOptions;
  // The options the hot path reads, each one load away.
  readonly #size: number;
  readonly #window: WindowBounds;
  readonly #join: JoinDetector;
  readonly #decoder: PayloadDecoder;
  readonly #gaps: GapBudget;
  readonly #timeline: Timeline | undefined;
  readonly #loops: Promise<void>[] = [];
  readonly #senderCount: number;
  #closing = false;
  // Receive-path state shared by every connection (framing is synchronous).
  #current!: Receiver;
  #nowUs = 0;
  /** Deliveries in the read being handled (the timeline counts per read). */
  #readDelivered = 0;
  /** A run of equal latencies not yet recorded (see #onLine). */
  #runCorrected = -1;
  #runUncorrected = -1;
  #runCount = 0;
  readonly #onLine = (bytes: Uint8Array, start: number, end: number) =>
    this.#handleLine(bytes, start, end);
  readonly #onTooLong = () => this.tally.malformed++;

  /** An empty set; {@linkcode add} gives it connections. */
  constructor(options: ReceiverSetOptions) {
    this.#options = options;
    this.#size = options.size;
    this.#window = options.window;
    this.#join = options.join;
    this.#decoder = new PayloadDecoder(options.tag, options.bodies);
    this.#gaps = options.gaps ?? new GapBudget();
    this.#senderCount = options.senders;
    this.tally = new DeliveryTally(options.senders, {
      bySender: options.bySender,
      window: options.window,
    });
    this.#timeline = this.tally.timeline;
  }

  /** Receivers whose connection has ended. */
  get gone(): number {
    let gone = 0;
    for (const receiver of this.receivers) if (receiver.done) gone++;
    return gone;
  }

  /** Whether every receiver's connection has ended. */
  get allGone(): boolean {
    return this.receivers.every((r) => r.done);
  }

  /**
   * Takes a connection as receiver `index` (by default the next number:
   * the order they are added) and starts reading it. Clients numbered
   * below `senders` send, and a payload of a sender numbered `senders`
   * or more is malformed.
   */
  add(conn: LoadConnection, index: number = this.receivers.length): Receiver {
    const receiver = new Receiver(
      index,
      conn,
      this.#options.senders,
      this.#options.maxLineBytes,
      this.#gaps,
    );
    this.receivers.push(receiver);
    this.#loops.push(this.#readLoop(receiver, conn));
    return receiver;
  }

  /** Closes every connection and waits for the read loops to end. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const receiver of this.receivers) {
      try {
        receiver.conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(this.#loops);
    this.#flushLatencyRun();
  }

  async #readLoop(
    receiver: Receiver,
    stream: StreamConnection,
  ): Promise<void> {
    const buffer = new Uint8Array(this.#options.readBufferBytes);
    const conn = stream.conn;
    const clock = this.#options.clock;
    const onRead = this.#options.onRead;
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        this.#nowUs = clock.nowUs();
        this.#current = receiver;
        receiver.splitter.pushSpans(
          buffer.subarray(0, n),
          this.#onLine,
          this.#onTooLong,
        );
        this.#endRead();
        onRead?.();
      }
    } catch {
      // A reset or a closed connection: counted below.
    }
    this.#gone(receiver);
  }

  /** After a read: the latency run and the deliveries go on record. */
  #endRead(): void {
    this.#flushLatencyRun();
    if (this.#readDelivered > 0) {
      this.#timeline?.deliver(this.#nowUs, this.#readDelivered);
      this.#readDelivered = 0;
    }
  }

  #gone(receiver: Receiver): void {
    if (receiver.done) return;
    receiver.done = true;
    if (!this.#closing) {
      const phase = this.#options.phase();
      this.disconnectTotal++;
      this.disconnects[phase] = (this.disconnects[phase] ?? 0) + 1;
    }
  }

  #handleLine(bytes: Uint8Array, start: number, end: number): void {
    const decoder = this.#decoder;
    const receiver = this.#current;
    const tally = this.tally;
    const result = decoder.decodeSpan(bytes, start, end, this.#size);
    if (result !== "ok") {
      if (result === "malformed") tally.malformed++;
      else if (!this.#join.check(receiver, bytes, start, end)) {
        tally.foreign++;
      }
      return;
    }
    const sender = decoder.sender;
    if (sender >= this.#senderCount) {
      tally.malformed++;
      return;
    }
    if (sender === receiver.index) {
      tally.echoed++;
      return;
    }
    const arrival = receiver.sequence.see(sender, decoder.seq);
    if (arrival === DUPLICATE) {
      tally.duplicated++;
      return;
    }
    if (arrival === REORDERED) tally.reordered++;
    tally.delivered++;
    tally.bySender[sender]++;
    this.#readDelivered++;
    const now = this.#nowUs;
    const window = this.#window;
    tally.lastDeliveryUs = now;
    if (now >= window.startUs && now < window.endUs) tally.windowDelivered++;
    const intended = decoder.intendedUs;
    if (intended >= window.startUs && intended < window.endUs) {
      // Lines of one batch usually share their latency (one clock reading
      // per read, one timestamp per batch sent): record runs, not lines.
      const corrected = now - intended;
      const uncorrected = now - decoder.actualUs;
      if (
        corrected === this.#runCorrected && uncorrected === this.#runUncorrected
      ) {
        this.#runCount++;
      } else {
        this.#flushLatencyRun();
        this.#runCorrected = corrected;
        this.#runUncorrected = uncorrected;
        this.#runCount = 1;
      }
    }
  }

  #flushLatencyRun(): void {
    if (this.#runCount === 0) return;
    this.tally.corrected.recordMany(this.#runCorrected, this.#runCount);
    this.tally.uncorrected.recordMany(this.#runUncorrected, this.#runCount);
    this.#timeline?.latency(this.#nowUs, this.#runCorrected, this.#runCount);
    this.#runCount = 0;
  }
}

/**
 * Clients that connect and never read (slow consumers): at the end, what
 * the server left waiting for them is read, and whether it closed them.
 *
 * @example
 * ```ts ignore
 * import { StreamConnection } from "./connection.ts";
 * import { SlowConsumers } from "./receivers.ts";
 * const slow = new SlowConsumers();
 * slow.add(new StreamConnection(await Deno.connect({ port: 7687 })));
 * console.log(await slow.collect()); // { closed: 0, bytes: … }
 * slow.close();
 * ```
 */
export class SlowConsumers {
  /** Their connections. */
  readonly conns: LineConn[] = [];

  /** How many there are. */
  get count(): number {
    return this.conns.length;
  }

  /** Takes a connection that will not be read until the end. */
  add(client: StreamConnection): void {
    this.conns.push(client.conn);
  }

  /**
   * Reads what waits for each (for at most `maxMs` in all, stopping at a
   * connection once it is idle for 200 ms): how many the server closed,
   * and how many bytes they had been sent.
   */
  async collect(maxMs = 2000): Promise<{ closed: number; bytes: number }> {
    let closed = 0;
    let bytes = 0;
    const deadline = performance.now() + maxMs;
    await Promise.all(this.conns.map(async (conn) => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        while (performance.now() < deadline) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const n = await Promise.race([
            conn.read(buffer),
            new Promise<"idle">((resolve) =>
              timer = setTimeout(resolve, 200, "idle")
            ),
          ]);
          clearTimeout(timer);
          if (n === "idle") return;
          if (n === null) {
            closed++;
            return;
          }
          bytes += n;
        }
      } catch {
        closed++;
      }
    }));
    return { closed, bytes };
  }

  /** Closes them. */
  close(): void {
    for (const conn of this.conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}
