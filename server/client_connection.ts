/**
 * One client of the server, whatever its transport: framing what it sends
 * and handing the lines to the room; queueing what the room delivers to it
 * and writing that out; applying its limits; and closing it, once, with a
 * reason.
 *
 * @module
 */

import { encodeLines } from "../protocol/encode_lines.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { Batch } from "./batch.ts";
import {
  type CloseReason,
  closeReasonOf,
  type OutputLimit,
} from "./close_reason.ts";
import { type InputRate, InputThrottle } from "./input_throttle.ts";
import type { Logger } from "./logger.ts";
import { type CostLedger, OutboundQueue } from "./outbound_queue.ts";
import type { Room, RoomMember } from "./room.ts";
import { SenderWindow } from "./sender_window.ts";
import type { ServerStats } from "./stats.ts";
import type {
  Transport,
  TransportEnd,
  TransportKind,
  TransportSink,
} from "./transport.ts";
import { type Writer, WriteScheduler } from "./write_scheduler.ts";

/** How long the read side may go on after a write failed. */
const WRITE_FAILED_GRACE_MS = 2000;

/** Most bytes coalesced into one `write` call. */
const MAX_WRITE_BYTES = 256 * 1024;

/** Why reading from a client is paused (bits; any set means paused). */
const PAUSED_BY_FLOOD = 1;
const PAUSED_BY_RATE = 2;

/** The limits one connection applies; see {@linkcode ChatServerOptions}. */
export interface ConnectionLimits {
  readonly maxLineBytes: number;
  readonly maxPendingBytes: number;
  readonly maxTotalPendingBytes: number;
  readonly writeTimeoutMs: number;
  readonly senderWindowBytes: number;
  readonly senderWaitMs: number;
  /** 0: off. */
  readonly writeCoalesceMs: number;
  /** 0: off. */
  readonly idleTimeoutMs: number;
  /** 0: off. */
  readonly lineTimeoutMs: number;
  readonly maxInputRate: InputRate | undefined;
  /** Frames per second with no line (WebSocket control, fragments); 0: off. */
  readonly maxControlRate: number;
}

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly room: Room<ClientConnection>;
  readonly stats: ServerStats;
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  /** The cost of every client's pending output together. */
  readonly ledger: CostLedger;
  /** Called when the ledger's total passed `maxTotalPendingBytes`. */
  readonly onOverTotal: () => void;
  /** Called once, when the connection is fully closed. */
  readonly onClosed: (client: ClientConnection) => void;
}

/**
 * How long a client's output may make no progress before it counts as
 * stalled: a quarter of the write timeout, and no less than the sender
 * wait. A reader that is only slow makes progress in bursts, as the
 * kernel's send buffer (up to 4 MiB on Linux) drains by half: at 1 MB/s,
 * every 2 s or so; a shorter stall time would take it for a non-reader.
 */
export function stallMs(limits: ConnectionLimits): number {
  return Math.max(limits.senderWaitMs, limits.writeTimeoutMs / 4);
}

// One scheduler for the process: its budget is per event-loop turn.
const writes = new WriteScheduler();

// The sweep's times are kept as ms since this module loaded: small
// integers stay in their fields, where `Date.now()` values would each be a
// heap number of 16 bytes, per field and idle client.
const EPOCH = Date.now();

// Framing a chunk and encoding its lines is synchronous, so one collector
// serves every connection (no closures or arrays per idle client).
const collected: Uint8Array[] = [];
let collectedTooLong = false;
const collectLine = (line: Uint8Array) => {
  if (!collectedTooLong) collected.push(line);
};
const collectTooLong = () => {
  collectedTooLong = true;
};

/**
 * A connected client: a {@linkcode RoomMember} with a {@linkcode Transport}.
 *
 * Each chunk it sends is framed and its complete lines are encoded once and
 * broadcast as one {@linkcode Batch}; a sender whose batches others have
 * not taken fills its {@linkcode SenderWindow} and is no longer read until
 * they do (flood control). Batches delivered to it are queued, and the
 * process's {@linkcode WriteScheduler} starts its writes (one at a time,
 * each coalescing everything queued), so fan-out never waits on this
 * client. The server's periodic {@linkcode ClientConnection.sweep} applies
 * the limits that need a clock.
 *
 * @example
 * ```ts ignore
 * const client = new ClientConnection(1, transport, context);
 * context.room.join(client);
 * client.start();
 * ```
 */
export class ClientConnection implements RoomMember, TransportSink, Writer {
  /** Server-assigned id, unique for the server's lifetime. */
  readonly id: number;
  /** The peer's address as `host:port` (made when asked: logs only). */
  get addr(): string {
    return this.#transport.remoteAddr;
  }
  /** The peer's host alone (what `maxClientsPerIp` counts). */
  readonly host: string;
  /** What carries it: TCP, TLS, WebSocket. */
  readonly kind: TransportKind;
  /** When it connected (ms since the epoch). */
  readonly connectedAt: number = Date.now();
  /** Lines received from this client and relayed. */
  linesIn = 0;
  /** Bytes read from this client. */
  bytesIn = 0;
  /** Bytes written to this client. */
  bytesOut = 0;

  readonly #transport: Transport;
  readonly #context: ConnectionContext;
  readonly #splitter: LineSplitter;
  readonly #queue: OutboundQueue;
  /** Made on the first line sent: most clients of a big room only read. */
  #window: SenderWindow | undefined;
  #throttle: InputThrottle | undefined;
  #controlThrottle: InputThrottle | undefined;
  #throttleTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = 0;
  #writing = false;
  /** Set once no more input is relayed or output queued (closing). */
  #leaving = false;
  #closeReason: CloseReason | undefined;
  #onDrained: (() => void) | undefined;
  // What the last sweep saw, to tell progress without reading a clock on
  // every read and write (times since EPOCH).
  #writesDone = 0;
  #writesSeen = 0;
  #outputSince = 0;
  #bytesInSeen = 0;
  #inputSince: number;
  #linesSeen = 0;
  #partialSince = 0;

  /** Wraps a transport; call {@linkcode start} to start reading. */
  constructor(id: number, transport: Transport, context: ConnectionContext) {
    this.id = id;
    this.#transport = transport;
    this.#context = context;
    this.#splitter = new LineSplitter({
      maxLineBytes: context.limits.maxLineBytes,
    });
    this.#queue = new OutboundQueue({
      ledger: context.ledger,
      frame: transport.frame,
    });
    this.host = transport.remoteHost;
    this.kind = transport.kind;
    this.#inputSince =
      this.#outputSince =
      this.#partialSince =
        this.connectedAt - EPOCH;
  }

  /** Whether the connection is open (false once closed for any reason). */
  get connected(): boolean {
    return this.#closeReason === undefined;
  }

  /** Why it closed, once closed. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Payload bytes queued for this client and not yet written. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
  }

  /** What this client's pending output really costs to hold, in bytes. */
  get pendingCost(): number {
    return this.#queue.cost;
  }

  /** Entries in its output queue (batches and merge chunks). */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Whether reading from it is paused (flood control or input rate). */
  get readingPaused(): boolean {
    return this.#paused !== 0;
  }

  /** Starts reading from the transport. */
  start(): void {
    this.#transport.start(this);
  }

  /**
   * Frames a chunk the client sent and relays its complete lines as one
   * batch; closes the client if it sent a line over the limit (after
   * relaying the lines before it).
   */
  receive(chunk: Uint8Array): void {
    if (this.#leaving) return;
    this.bytesIn += chunk.length;
    this.#context.stats.bytesIn += chunk.length;
    this.#splitter.push(chunk, collectLine, collectTooLong);
    const tooLong = collectedTooLong;
    collectedTooLong = false;
    const count = collected.length;
    if (count > 0) {
      const encoded = encodeLines(collected);
      collected.length = 0;
      this.#relay(encoded, count);
    }
    if (tooLong) this.close("line-too-long");
    else this.#throttleInput(count, chunk.length);
  }

  /**
   * Relays one whole line from a transport whose messages are lines
   * (WebSocket): the same limits and flood control as framed input. Its
   * bytes were counted as they were read ({@linkcode receiveWire}).
   */
  receiveLine(line: Uint8Array): void {
    if (this.#leaving) return;
    if (line.length > this.#context.limits.maxLineBytes) {
      this.close("line-too-long");
      return;
    }
    this.#relay(encodeLines([line]), 1);
    this.#throttleInput(1, 0);
  }

  /**
   * Counts bytes a transport that decodes its own frames (WebSocket) read,
   * before it decodes them: bytes in, the idle timeout, `maxInputRate`.
   */
  receiveWire(bytes: number): void {
    if (this.#leaving) return;
    this.bytesIn += bytes;
    this.#context.stats.bytesIn += bytes;
    this.#throttleInput(0, bytes);
  }

  /**
   * Paces frames that carry no line (WebSocket pings, pongs, fragments) at
   * `maxControlRate`: they cost work, and flood control never sees them.
   */
  receiveControl(frames: number): void {
    const rate = this.#context.limits.maxControlRate;
    if (rate === 0 || this.#leaving) return;
    this.#controlThrottle ??= new InputThrottle({ linesPerSecond: rate });
    const waitMs = this.#controlThrottle.consume(frames, 0);
    if (waitMs > 0) this.#throttleFor(waitMs, "control");
  }

  /** Broadcasts encoded lines as one batch, charged to this sender. */
  #relay(encoded: Uint8Array, count: number): void {
    const window = this.#window ??= this.#newWindow();
    const batch = new Batch(encoded, count, window);
    this.linesIn += count;
    this.#context.stats.linesReceived += count;
    this.#context.room.broadcast(this, batch);
    window.check();
  }

  /** Applies `maxInputRate`, if set, to input just taken. */
  #throttleInput(lines: number, bytes: number): void {
    const rate = this.#context.limits.maxInputRate;
    if (rate === undefined || this.#leaving) return;
    this.#throttle ??= new InputThrottle(rate);
    const waitMs = this.#throttle.consume(lines, bytes);
    if (waitMs > 0) this.#throttleFor(waitMs, "input");
  }

  /** The transport's rules were broken: close with `reason`. */
  violation(
    reason: "line-too-long" | "protocol-error",
    detail: string,
  ): void {
    this.close(reason, new Error(detail));
  }

  /** The client's input ended: FIN leaves after a flush, errors at once. */
  end(how: TransportEnd, error?: unknown): void {
    if (how === "eof") this.closeAfterFlush("eof");
    else this.close(how, error);
  }

  /** Queues `batch` for this client; see {@linkcode RoomMember.deliver}. */
  deliver(batch: Batch): void {
    if (this.#leaving) return;
    const queue = this.#queue;
    const { limits, ledger } = this.#context;
    if (queue.cost + batch.cost > limits.maxPendingBytes) {
      this.close("slow-consumer", undefined, "max-pending-bytes");
      return;
    }
    queue.push(batch);
    if (!this.#writing) {
      this.#writing = true;
      // Written after the current fan-out, so every batch relayed in this
      // turn goes out in one write.
      writes.add(this);
    }
    if (ledger.total > limits.maxTotalPendingBytes) {
      this.#context.onOverTotal();
    }
  }

  /**
   * Starts writing everything queued, coalesced (called by the write
   * scheduler); returns `null` when nothing is queued.
   */
  writeNext(): Promise<number> | null {
    const out = this.#closeReason === undefined
      ? this.#queue.take(MAX_WRITE_BYTES)
      : null;
    if (out === null) {
      this.#writeDone();
      return null;
    }
    return this.#write(out);
  }

  /**
   * Applies the limits that need a clock; the server calls it every
   * sweep with the time. Output that made no progress for a quarter of
   * `writeTimeoutMs` (see {@linkcode stallMs}) stops holding senders back
   * and is merged; for all of `writeTimeoutMs`, the client is cut. Idle and line timeouts do not run while reading is
   * paused: then the server, not the client, is the one not reading.
   */
  sweep(now: number): void {
    if (this.#closeReason !== undefined) return;
    const at = now - EPOCH;
    const limits = this.#context.limits;
    const queue = this.#queue;
    if (!this.#writing && queue.pendingBytes === 0) {
      this.#outputSince = at;
    } else if (this.#writesDone !== this.#writesSeen) {
      this.#writesSeen = this.#writesDone;
      this.#outputSince = at;
      queue.attach();
    } else {
      const stuckMs = at - this.#outputSince;
      if (stuckMs >= limits.writeTimeoutMs) {
        this.close("slow-consumer", undefined, "write-timeout");
        return;
      }
      if (stuckMs >= stallMs(limits) && !queue.detached) {
        this.#context.stats.outputStalls++;
        queue.detach();
      }
    }
    if (this.#paused !== 0 || this.bytesIn !== this.#bytesInSeen) {
      this.#bytesInSeen = this.bytesIn;
      this.#inputSince = at;
    } else if (
      limits.idleTimeoutMs > 0 && at - this.#inputSince >= limits.idleTimeoutMs
    ) {
      this.close("idle-timeout");
      return;
    }
    if (limits.lineTimeoutMs > 0) {
      if (
        this.#paused !== 0 || this.linesIn !== this.#linesSeen ||
        (this.#splitter.pendingBytes === 0 && !this.#transport.partialInput)
      ) {
        this.#linesSeen = this.linesIn;
        this.#partialSince = at;
      } else if (at - this.#partialSince >= limits.lineTimeoutMs) {
        this.close("line-timeout");
      }
    }
  }

  /**
   * Leaves the room at once, writes what is already queued for at most
   * `graceMs`, then closes with `reason`.
   */
  async closeAfterFlush(reason: CloseReason, graceMs = 2000): Promise<void> {
    if (this.#leaving) return;
    this.#leaving = true;
    this.#context.room.leave(this);
    if (this.#writing || !this.#queue.isEmpty) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#onDrained = resolve),
        new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    this.close(reason);
  }

  /**
   * Closes now with `reason` (and, for `slow-consumer`, the `limit` that
   * fired); later calls do nothing.
   */
  close(reason: CloseReason, error?: unknown, limit?: OutputLimit): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#leaving = true;
    const { room, stats, logger, onClosed } = this.#context;
    room.leave(this);
    this.#window?.close();
    clearTimeout(this.#throttleTimer);
    const pendingBytes = this.#queue.pendingBytes;
    this.#queue.clear();
    this.#transport.close(reason);
    stats.closes[reason]++;
    if (limit !== undefined) stats.slowConsumers[limit]++;
    logger.event("disconnect", {
      id: this.id,
      addr: this.addr,
      reason,
      limit,
      pending_bytes: limit === undefined ? undefined : pendingBytes,
      error: (reason === "error" || reason === "protocol-error") &&
          error instanceof Error
        ? error.message
        : undefined,
      lines_in: this.linesIn,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      seconds: Math.round(Date.now() - this.connectedAt) / 1000,
    });
    this.#onDrained?.();
    onClosed(this);
  }

  #newWindow(): SenderWindow {
    const { limits, stats } = this.#context;
    return new SenderWindow({
      limitBytes: limits.senderWindowBytes,
      waitMs: limits.senderWaitMs,
      onPause: () => {
        stats.floodPauses++;
        this.#pause(PAUSED_BY_FLOOD);
      },
      onResume: (expired) => {
        if (expired) stats.floodWaitsExpired++;
        this.#unpause(PAUSED_BY_FLOOD);
      },
    });
  }

  #throttleFor(waitMs: number, why: "input" | "control"): void {
    if (this.#paused & PAUSED_BY_RATE) return;
    if (why === "input") this.#context.stats.inputThrottles++;
    else this.#context.stats.controlThrottles++;
    this.#pause(PAUSED_BY_RATE);
    this.#throttleTimer = setTimeout(() => {
      this.#throttleTimer = undefined;
      this.#unpause(PAUSED_BY_RATE);
    }, waitMs);
  }

  #pause(why: number): void {
    if (this.#paused === 0) this.#transport.pauseReading();
    this.#paused |= why;
  }

  #unpause(why: number): void {
    if (this.#paused === 0) return;
    this.#paused &= ~why;
    if (this.#paused === 0 && this.#closeReason === undefined) {
      this.#transport.resumeReading();
    }
  }

  #write(out: Uint8Array): Promise<number> {
    const write = this.#transport.write(out);
    write.then(
      (n) => this.#wrote(out, n),
      (error) => this.#writeFailed(error),
    );
    return write;
  }

  #wrote(out: Uint8Array, n: number): void {
    if (this.#closeReason !== undefined) return this.#writeDone();
    this.#writesDone++;
    this.#queue.written(n);
    this.bytesOut += n;
    this.#context.stats.bytesOut += n;
    if (n < out.length) this.#write(out.subarray(n));
    else if (this.#queue.isEmpty) this.#writeDone();
    else if (this.#context.limits.writeCoalesceMs > 0) {
      // More came while this write was out: the client is busy, so gather
      // what comes next for a moment into one write (fewer write calls per
      // delivery). A client that went idle writes its next line at once.
      writes.addLater(this, this.#context.limits.writeCoalesceMs);
    } else writes.add(this);
  }

  #writeDone(): void {
    this.#writing = false;
    if (this.#queue.isEmpty) this.#onDrained?.();
  }

  /**
   * The client is gone, but lines it completed before leaving may still be
   * unread (§5.1: they are relayed): stop writing and leave the room, and
   * let the read side, which meets the same reset after those lines, close
   * the connection. A read side that never ends is closed after a grace.
   */
  #writeFailed(error: unknown): void {
    this.#queue.clear();
    this.#writeDone();
    if (this.#closeReason !== undefined) return;
    this.#context.room.leave(this);
    // Read what it sent before leaving now, even if flood control or the
    // input cap had paused it: it can send no more than the kernel holds.
    this.#unpause(PAUSED_BY_FLOOD | PAUSED_BY_RATE);
    const timer = setTimeout(
      () => this.close(closeReasonOf(error), error),
      WRITE_FAILED_GRACE_MS,
    );
    Deno.unrefTimer(timer);
  }
}
