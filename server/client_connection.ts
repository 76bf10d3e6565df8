/**
 * One client of the server, whatever its transport: framing what it sends
 * and handing the lines to the room; queueing what the room delivers to it
 * and writing that out; and closing it, once, with a reason.
 *
 * @module
 */

import { encodeLines } from "../protocol/encode_lines.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { type CloseReason, closeReasonOf } from "./close_reason.ts";
import type { Logger } from "./logger.ts";
import { OutboundQueue } from "./outbound_queue.ts";
import type { Room, RoomMember } from "./room.ts";
import type { ServerStats } from "./stats.ts";
import type { Transport, TransportEnd, TransportSink } from "./transport.ts";
import { type Writer, WriteScheduler } from "./write_scheduler.ts";

/** How long the read side may go on after a write failed. */
const WRITE_FAILED_GRACE_MS = 2000;

/** Most bytes coalesced into one `write` call. */
const MAX_WRITE_BYTES = 256 * 1024;

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly room: Room<ClientConnection>;
  readonly stats: ServerStats;
  readonly logger: Logger;
  readonly maxLineBytes: number;
  readonly maxPendingBytes: number;
  /** Called once, when the connection is fully closed. */
  readonly onClosed: (client: ClientConnection) => void;
}

// One scheduler for the process: its budget is per event-loop turn.
const writes = new WriteScheduler();

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
 * broadcast as one batch; batches delivered to it are queued, and the
 * process's {@linkcode WriteScheduler} starts its writes (one at a time,
 * each coalescing everything queued), so fan-out never waits on this
 * client. Over `maxPendingBytes` queued, it is closed as a slow consumer.
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
  /** The peer's address as `host:port`. */
  readonly addr: string;
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
  readonly #queue = new OutboundQueue();
  #writing = false;
  /** Set once no more input is relayed or output queued (closing). */
  #leaving = false;
  #closeReason: CloseReason | undefined;
  #onDrained: (() => void) | undefined;

  /** Wraps a transport; call {@linkcode start} to start reading. */
  constructor(id: number, transport: Transport, context: ConnectionContext) {
    this.id = id;
    this.#transport = transport;
    this.#context = context;
    this.#splitter = new LineSplitter({ maxLineBytes: context.maxLineBytes });
    this.addr = transport.remoteAddr;
  }

  /** Whether the connection is open (false once closed for any reason). */
  get connected(): boolean {
    return this.#closeReason === undefined;
  }

  /** Why it closed, once closed. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Bytes queued for this client and not yet written. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
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
    if (collected.length > 0) {
      const count = collected.length;
      const batch = encodeLines(collected);
      collected.length = 0;
      this.linesIn += count;
      this.#context.room.broadcast(this, batch, count);
    }
    if (tooLong) this.close("line-too-long");
  }

  /** The client's input ended: FIN leaves after a flush, errors at once. */
  end(how: TransportEnd, error?: unknown): void {
    if (how === "eof") this.closeAfterFlush("eof");
    else this.close(how, error);
  }

  /** Queues `batch` for this client; see {@linkcode RoomMember.deliver}. */
  deliver(batch: Uint8Array): void {
    if (this.#leaving) return;
    const queue = this.#queue;
    if (queue.pendingBytes + batch.length > this.#context.maxPendingBytes) {
      this.close("slow-consumer");
      return;
    }
    queue.push(batch);
    if (!this.#writing) {
      this.#writing = true;
      // Written after the current fan-out, so every batch relayed in this
      // turn goes out in one write.
      writes.add(this);
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

  /** Closes now with `reason`; later calls do nothing. */
  close(reason: CloseReason, error?: unknown): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#leaving = true;
    const { room, stats, logger, onClosed } = this.#context;
    room.leave(this);
    this.#queue.clear();
    this.#transport.close();
    stats.closes[reason]++;
    logger.event("disconnect", {
      id: this.id,
      addr: this.addr,
      reason,
      error: reason === "error" && error instanceof Error
        ? error.message
        : undefined,
      lines_in: this.linesIn,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      seconds: ((Date.now() - this.connectedAt) / 1000).toFixed(3),
    });
    this.#onDrained?.();
    onClosed(this);
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
    this.#queue.written(n);
    this.bytesOut += n;
    this.#context.stats.bytesOut += n;
    if (n < out.length) this.#write(out.subarray(n));
    else if (this.#queue.isEmpty) this.#writeDone();
    else writes.add(this);
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
    const timer = setTimeout(
      () => this.close(closeReasonOf(error), error),
      WRITE_FAILED_GRACE_MS,
    );
    Deno.unrefTimer(timer);
  }
}
