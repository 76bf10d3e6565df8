/**
 * {@linkcode Peer}: the suite's line client. It wraps the shared
 * `ChatClient` and records every send, receive, EOF, reset and timeout in
 * the case's wire trace; reads never throw.
 *
 * @module
 */

import {
  type ChatClient,
  ReadTimeoutError,
  type ReceivedLine,
} from "../client/chat_client.ts";
import { bytesEqual, endsWith } from "./bytes.ts";
import { isControlLine } from "./control_lines.ts";
import type { DialectView } from "./dialect/dialect_view.ts";
import { describeError } from "./describe_error.ts";
import { LineWriter } from "./line_writer.ts";
import type { TraceRecorder } from "./trace.ts";
import { rememberSentLines, type WireStats } from "./wire_stats.ts";

/**
 * What one read produced.
 *
 * @example
 * ```ts
 * import type { ReadOutcome } from "./peer.ts";
 * const outcome: ReadOutcome = { kind: "timeout" };
 * console.log(outcome.kind);
 * ```
 */
export type ReadOutcome =
  | { kind: "line"; line: ReceivedLine }
  | { kind: "eof"; unterminated: Uint8Array }
  | { kind: "timeout" }
  | { kind: "reset"; error: string }
  | { kind: "closed" };

/**
 * What {@linkcode Peer.collectUntil} gathered.
 *
 * @example
 * ```ts
 * import type { Collected } from "./peer.ts";
 * const collected: Collected = { lines: [], end: "found" };
 * console.log(collected.end);
 * ```
 */
export interface Collected {
  /** Lines read before the match (control lines left out unless kept). */
  lines: ReceivedLine[];
  /**
   * Why collecting stopped: the match came, the server closed the
   * connection (`eof`) or broke it (`reset`), time ran out, or the harness
   * itself closed the client (`closed`: the case was stopped).
   */
  end: "found" | "eof" | "timeout" | "reset" | "closed";
  /** The matching line, when found. */
  found?: ReceivedLine;
  /** The error, when the connection broke. */
  error?: string;
}

/**
 * Options for {@linkcode Peer.collectUntil}.
 *
 * @example
 * ```ts
 * import type { CollectOptions } from "./peer.ts";
 * const options: CollectOptions = { timeoutMs: 2000, deadline: { at: Infinity } };
 * console.log(options.timeoutMs);
 * ```
 */
export interface CollectOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /**
   * A deadline (`performance.now()` time) the caller may move while the
   * collect runs; reads then wait at most 250 ms at a time so they notice.
   */
  deadline?: { at: number };
  /**
   * Keep control lines in {@linkcode Collected.lines}.
   *
   * @default {false}
   */
  keepControl?: boolean;
}

/**
 * A traced line-chat client. Every send, receive, EOF, reset and timeout
 * is recorded in the case's trace; reads never throw (they return a
 * {@linkcode ReadOutcome}); writes throw the socket's error.
 *
 * @example
 * ```ts ignore
 * import { connect } from "../client/chat_client.ts";
 * import { Peer } from "./peer.ts";
 * import { TraceRecorder } from "./trace.ts";
 *
 * const trace = new TraceRecorder();
 * const stats = { linesReceived: 0, lfOnlyLines: 0 };
 * const alice = new Peer("A", await connect("127.0.0.1:7687"), trace, stats);
 * await alice.send("hello");
 * alice.close();
 * ```
 */
export class Peer extends LineWriter {
  /** The underlying client. */
  readonly client: ChatClient;
  /**
   * Lines read while waiting at a registration barrier that were not
   * barrier lines: banners, notices, history.
   */
  readonly unsolicited: ReceivedLine[] = [];
  /** Lines read while waiting for a tick that were not the tick. */
  readonly stray: ReceivedLine[] = [];
  /** When set, received lines are counted but not traced one by one. */
  quiet = false;
  /**
   * With a dialect (`--dialect`): what the server's lines mean. Reads
   * then return payloads, and drop notices and the sender's own echoes.
   */
  dialect: DialectView | undefined;

  readonly #stats: WireStats;
  #ended: "eof" | "reset" | undefined;

  /** Wraps a connected client. */
  constructor(
    name: string,
    client: ChatClient,
    trace: TraceRecorder,
    stats: WireStats,
  ) {
    super(name, trace);
    this.client = client;
    this.#stats = stats;
  }

  /** How the server ended the connection, once a read saw it. */
  get ended(): "eof" | "reset" | undefined {
    return this.#ended;
  }

  /** Remembers the lines sent, then writes; traces a write error. */
  protected async transmit(data: Uint8Array): Promise<void> {
    rememberSentLines(this.#stats, data);
    this.dialect?.sent(data);
    try {
      await this.client.write(data);
    } catch (error) {
      this.trace.record(this.name, "error", `write: ${describeError(error)}`);
      throw error;
    }
  }

  /**
   * Reads one line, waiting at most `timeoutMs`. Never throws. An end of
   * the connection is the server's (`eof`, `reset`) only when the harness
   * had not closed the client itself (`closed`).
   */
  async read(timeoutMs: number, traceTimeout = true): Promise<ReadOutcome> {
    if (this.dialect === undefined) {
      return this.#readLine(timeoutMs, traceTimeout);
    }
    // Through the dialect: notices and own echoes are read past.
    const until = performance.now() + timeoutMs;
    while (true) {
      const outcome = await this.#readLine(
        until - performance.now(),
        traceTimeout,
      );
      if (outcome.kind !== "line") return outcome;
      const line = this.dialect.receive(outcome.line, this.trace, this.name);
      if (line !== null) return { kind: "line", line };
    }
  }

  async #readLine(
    timeoutMs: number,
    traceTimeout: boolean,
  ): Promise<ReadOutcome> {
    if (this.client.closed) return { kind: "closed" };
    try {
      const line = await this.client.readLine({
        timeoutMs: Math.max(1, timeoutMs),
      });
      if (line === null && this.client.closed) return { kind: "closed" };
      if (line === null) {
        const unterminated = this.client.takeUnterminated();
        if (this.#ended === undefined) {
          this.#ended = "eof";
          this.trace.record(
            this.name,
            "eof",
            unterminated.length > 0 ? unterminated : undefined,
          );
        }
        return { kind: "eof", unterminated };
      }
      this.#stats.linesReceived++;
      if (!line.crlf) this.#stats.lfOnlyLines++;
      if (!this.quiet) {
        this.trace.record(this.name, "recv", line.bytes, {
          terminator: line.crlf ? "crlf" : "lf",
        });
      }
      return { kind: "line", line };
    } catch (error) {
      if (error instanceof ReadTimeoutError) {
        if (traceTimeout) {
          this.trace.record(
            this.name,
            "timeout",
            `no line within ${timeoutMs} ms`,
          );
        }
        return { kind: "timeout" };
      }
      if (this.client.closed) return { kind: "closed" };
      const message = describeError(error);
      if (this.#ended === undefined) {
        this.#ended = "reset";
        this.trace.record(this.name, "reset", message);
      }
      return { kind: "reset", error: message };
    }
  }

  /**
   * Reads until a line matching `match` arrives (bytes: a line ending
   * with them; a line with more before them is also kept in `lines`, so
   * the extra bytes are judged), the connection ends, or time runs out.
   */
  async collectUntil(
    match: Uint8Array | ((bytes: Uint8Array) => boolean),
    options: CollectOptions,
  ): Promise<Collected> {
    const fixed = performance.now() + options.timeoutMs;
    const moving = options.deadline;
    const lines: ReceivedLine[] = [];
    const test = typeof match === "function"
      ? match
      : (bytes: Uint8Array) => endsWith(bytes, match);
    const t0 = performance.now();
    while (true) {
      const left = Math.min(fixed, moving?.at ?? Infinity) - performance.now();
      if (left <= 0) {
        if (moving) {
          // One event for the whole wait, not one per 250 ms slice.
          this.trace.record(
            this.name,
            "timeout",
            `no matching line within ${Math.round(performance.now() - t0)} ms`,
          );
        }
        return { lines, end: "timeout" };
      }
      const outcome = await this.read(
        moving ? Math.min(left, 250) : left,
        !moving,
      );
      if (outcome.kind === "timeout" && moving) continue;
      if (outcome.kind === "timeout") return { lines, end: "timeout" };
      if (outcome.kind === "eof") return { lines, end: "eof" };
      if (outcome.kind === "closed") return { lines, end: "closed" };
      if (outcome.kind === "reset") {
        return { lines, end: "reset", error: outcome.error };
      }
      const { line } = outcome;
      if (test(line.bytes)) {
        if (match instanceof Uint8Array && !bytesEqual(line.bytes, match)) {
          lines.push(line);
        }
        return { lines, end: "found", found: line };
      }
      if (options.keepControl || !isControlLine(line.bytes)) lines.push(line);
    }
  }

  /**
   * Reads until the server closes the connection or `timeoutMs` passes,
   * returning what arrived meanwhile.
   */
  async drainUntilClosed(
    timeoutMs: number,
  ): Promise<{ closed: "eof" | "reset" | false; lines: ReceivedLine[] }> {
    const collected = await this.collectUntil(() => false, {
      timeoutMs,
      keepControl: true,
    });
    const closed = collected.end === "eof"
      ? "eof"
      : collected.end === "reset"
      ? "reset"
      : false;
    return { closed, lines: collected.lines };
  }

  /** Half-closes: sends FIN; reading goes on. Throws the socket's error. */
  async closeWrite(): Promise<void> {
    this.trace.record(this.name, "half-close");
    try {
      await this.client.closeWrite();
    } catch (error) {
      this.trace.record(
        this.name,
        "error",
        `half-close: ${describeError(error)}`,
      );
      throw error;
    }
  }

  /** Closes the connection (FIN). Safe to call twice. */
  close(): void {
    if (this.client.closed) return;
    this.trace.record(this.name, "close");
    this.client.close();
  }
}
