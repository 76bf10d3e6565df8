/**
 * The suite's clients: {@linkcode Peer} wraps the shared `ChatClient` and
 * records every send and receive in the case's wire trace; {@linkcode RawPeer}
 * is a `node:net` socket for what `ChatClient` cannot do (a real RST).
 *
 * @module
 */

import net from "node:net";
import {
  type ChatClient,
  ReadTimeoutError,
  type ReceivedLine,
} from "../client/chat_client.ts";
import { fnv1a } from "./escape.ts";
import type { TraceRecorder } from "./trace.ts";

const encoder = new TextEncoder();

/**
 * The prefix of the harness's control lines (registration barriers and
 * ticks). Lines that start with it are left out of what cases judge; they
 * stay in the trace.
 *
 * @example
 * ```ts
 * import { CONTROL_PREFIX } from "./peer.ts";
 * console.log(CONTROL_PREFIX); // "lcc~ctl~"
 * ```
 */
export const CONTROL_PREFIX = "lcc~ctl~";
const CONTROL_BYTES = encoder.encode(CONTROL_PREFIX);

/**
 * Whether `bytes` is a harness control line.
 *
 * @example
 * ```ts
 * import { isControlLine } from "./peer.ts";
 * console.log(isControlLine(new TextEncoder().encode("lcc~ctl~tick~c1~1"))); // true
 * ```
 */
export function isControlLine(bytes: Uint8Array): boolean {
  return startsWith(bytes, CONTROL_BYTES);
}

/**
 * Whether `bytes` begins with `prefix`.
 *
 * @example
 * ```ts
 * import { startsWith } from "./peer.ts";
 * console.log(startsWith(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))); // true
 * ```
 */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Whether `bytes` ends with `suffix`.
 *
 * @example
 * ```ts
 * import { endsWith } from "./peer.ts";
 * console.log(endsWith(new Uint8Array([1, 2, 3]), new Uint8Array([2, 3]))); // true
 * ```
 */
export function endsWith(bytes: Uint8Array, suffix: Uint8Array): boolean {
  if (bytes.length < suffix.length) return false;
  const offset = bytes.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) {
    if (bytes[offset + i] !== suffix[i]) return false;
  }
  return true;
}

/**
 * Whether two byte arrays are equal.
 *
 * @example
 * ```ts
 * import { bytesEqual } from "./peer.ts";
 * console.log(bytesEqual(new Uint8Array([1]), new Uint8Array([1]))); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}

/**
 * Counters shared by every peer of a run: how the server ended the lines
 * it sent (§2.5).
 *
 * @example
 * ```ts
 * import type { WireStats } from "./peer.ts";
 * const stats: WireStats = { linesReceived: 0, lfOnlyLines: 0 };
 * console.log(stats.linesReceived);
 * ```
 */
export interface WireStats {
  /** Lines received from the server. */
  linesReceived: number;
  /** Of those, lines ended by LF alone. */
  lfOnlyLines: number;
  /**
   * Keys ({@linkcode lineKey}) of the short lines clients of the run sent,
   * to tell replayed history from a banner.
   */
  sent?: Set<string>;
}

/**
 * A compact key for a line: its length and FNV-1a hash.
 *
 * @example
 * ```ts
 * import { lineKey } from "./peer.ts";
 * console.log(lineKey(new Uint8Array([0x61]))); // "1:e40c292c"
 * ```
 */
export function lineKey(bytes: Uint8Array): string {
  return `${bytes.length}:${fnv1a(bytes)}`;
}

/** Most bytes of one write scanned for lines to remember. */
const MAX_REMEMBERED_WRITE = 64 * 1024;
/** Most lines remembered per run. */
const MAX_REMEMBERED_LINES = 200_000;

function remember(stats: WireStats, data: Uint8Array): void {
  const sent = stats.sent;
  if (!sent || data.length > MAX_REMEMBERED_WRITE) return;
  let start = 0;
  for (let i = 0; i < data.length && sent.size < MAX_REMEMBERED_LINES; i++) {
    if (data[i] !== 0x0a) continue;
    const end = i > start && data[i - 1] === 0x0d ? i - 1 : i;
    sent.add(lineKey(data.subarray(start, end)));
    start = i + 1;
  }
}

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
  | { kind: "reset"; error: string };

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
  /** Why collecting stopped. */
  end: "found" | "eof" | "timeout" | "reset";
  /** The matching line, when found. */
  found?: ReceivedLine;
  /** The error, when the connection broke. */
  error?: string;
}

/** Options for {@linkcode Peer.collectUntil}. */
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

/** A client the harness can only write to (used for resets). */
export interface Writer {
  /** The client's name in the case. */
  readonly name: string;
  /** Sends `line` followed by LF. */
  send(line: string | Uint8Array): Promise<void>;
  /** Writes raw bytes. */
  write(bytes: string | Uint8Array): Promise<void>;
  /** Closes the connection. */
  close(): void;
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
export class Peer implements Writer {
  /** The client's name in the case. */
  readonly name: string;
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

  readonly #trace: TraceRecorder;
  readonly #stats: WireStats;
  #ended: "eof" | "reset" | undefined;

  /** Wraps a connected client. */
  constructor(
    name: string,
    client: ChatClient,
    trace: TraceRecorder,
    stats: WireStats,
  ) {
    this.name = name;
    this.client = client;
    this.#trace = trace;
    this.#stats = stats;
  }

  /** How the server ended the connection, once a read saw it. */
  get ended(): "eof" | "reset" | undefined {
    return this.#ended;
  }

  /** Sends `line` followed by LF. */
  send(line: string | Uint8Array): Promise<void> {
    const bytes = typeof line === "string" ? encoder.encode(line) : line;
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    out[bytes.length] = 0x0a;
    return this.write(out);
  }

  /** Sends several lines in one write, each followed by LF. */
  sendMany(lines: readonly (string | Uint8Array)[]): Promise<void> {
    const parts = lines.map((l) =>
      typeof l === "string" ? encoder.encode(l) : l
    );
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
      out[offset++] = 0x0a;
    }
    return this.write(out);
  }

  /** Writes raw bytes as one write; throws the socket's error. */
  async write(bytes: string | Uint8Array): Promise<void> {
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    this.#trace.record(this.name, "send", data);
    remember(this.#stats, data);
    try {
      await this.client.write(data);
    } catch (error) {
      this.#trace.record(this.name, "error", `write: ${describeError(error)}`);
      throw error;
    }
  }

  /** Reads one line, waiting at most `timeoutMs`. Never throws. */
  async read(timeoutMs: number): Promise<ReadOutcome> {
    try {
      const line = await this.client.readLine({
        timeoutMs: Math.max(1, timeoutMs),
      });
      if (line === null) {
        const unterminated = this.client.takeUnterminated();
        if (this.#ended === undefined) {
          this.#ended = "eof";
          this.#trace.record(
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
        this.#trace.record(this.name, "recv", line.bytes, {
          terminator: line.crlf ? "crlf" : "lf",
        });
      }
      return { kind: "line", line };
    } catch (error) {
      if (error instanceof ReadTimeoutError) {
        this.#trace.record(
          this.name,
          "timeout",
          `no line within ${timeoutMs} ms`,
        );
        return { kind: "timeout" };
      }
      const message = describeError(error);
      if (this.#ended === undefined) {
        this.#ended = "reset";
        this.#trace.record(this.name, "reset", message);
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
    while (true) {
      const left = Math.min(fixed, moving?.at ?? Infinity) - performance.now();
      if (left <= 0) return { lines, end: "timeout" };
      const outcome = await this.read(moving ? Math.min(left, 250) : left);
      if (outcome.kind === "timeout" && moving) continue;
      if (outcome.kind === "timeout") return { lines, end: "timeout" };
      if (outcome.kind === "eof") return { lines, end: "eof" };
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
    this.#trace.record(this.name, "half-close");
    try {
      await this.client.closeWrite();
    } catch (error) {
      this.#trace.record(
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
    this.#trace.record(this.name, "close");
    this.client.close();
  }
}

/**
 * A `node:net` client for leaving by reset (RST), which `ChatClient`
 * cannot do. It only writes; what it receives is counted and dropped.
 *
 * @example
 * ```ts ignore
 * import { RawPeer } from "./peer.ts";
 * import { TraceRecorder } from "./trace.ts";
 *
 * const peer = await RawPeer.connect("X", { hostname: "127.0.0.1", port: 7687 }, new TraceRecorder(), 2000);
 * await peer.send("bye");
 * peer.reset();
 * ```
 */
export class RawPeer implements Writer {
  /** The client's name in the case. */
  readonly name: string;
  /** Bytes received (and dropped). */
  bytesReceived = 0;
  /**
   * Resolves when the server ends the connection: `eof` (FIN) or `reset`
   * (RST or another error). Never rejects; stays pending while it is open.
   */
  readonly remoteClosed: Promise<"eof" | "reset">;
  readonly #socket: net.Socket;
  readonly #trace: TraceRecorder;
  #closed = false;
  #ended: "eof" | "reset" | undefined;

  private constructor(name: string, socket: net.Socket, trace: TraceRecorder) {
    this.name = name;
    this.#socket = socket;
    this.#trace = trace;
    // Whatever arrives is counted and dropped: a raw peer never falls behind.
    socket.on(
      "data",
      (chunk: Uint8Array) => this.bytesReceived += chunk.length,
    );
    this.remoteClosed = new Promise((resolve) => {
      socket.once("end", () => {
        if (!this.#closed) {
          trace.record(name, "eof");
          this.#ended ??= "eof";
        }
        resolve("eof");
      });
      socket.on("error", (error: Error) => {
        if (!this.#closed) {
          trace.record(name, "reset", describeError(error));
          this.#ended ??= "reset";
        }
        resolve("reset");
      });
    });
  }

  /** How the server ended the connection, if it did (not our close). */
  get ended(): "eof" | "reset" | undefined {
    return this.#ended;
  }

  /** Connects, rejecting after `timeoutMs`. */
  static connect(
    name: string,
    target: { hostname: string; port: number },
    trace: TraceRecorder,
    timeoutMs: number,
  ): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: target.hostname, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        trace.record(name, "connect", "raw socket (can reset)");
        resolve(new RawPeer(name, socket, trace));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends `line` followed by LF. */
  send(line: string | Uint8Array): Promise<void> {
    const bytes = typeof line === "string" ? encoder.encode(line) : line;
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    out[bytes.length] = 0x0a;
    return this.write(out);
  }

  /** Writes raw bytes, resolving once they are handed to the kernel. */
  write(bytes: string | Uint8Array): Promise<void> {
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    this.#trace.record(this.name, "send", data);
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  /** Resets the connection: the server sees RST, not FIN. */
  reset(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#trace.record(this.name, "reset", "sent RST");
    this.#socket.resetAndDestroy();
  }

  /** Half-closes (FIN on the sending side). */
  end(): void {
    this.#trace.record(this.name, "half-close");
    this.#socket.end();
  }

  /** Closes the connection (FIN). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#trace.record(this.name, "close");
    this.#socket.destroy();
  }
}

/**
 * A one-line description of an error: its class and message.
 *
 * @example
 * ```ts
 * import { describeError } from "./peer.ts";
 * console.log(describeError(new RangeError("bad"))); // "RangeError: bad"
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`.split("\n")[0];
  }
  return String(error).split("\n")[0];
}
