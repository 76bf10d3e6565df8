/**
 * {@linkcode FuzzClient}: the fuzz mode's client, a `node:net` socket that
 * can do every move a schedule asks for (write any segment, stop and
 * resume reading, close, half-close, reset), connect from a source
 * address of its own (a reconnect is the same address connecting again)
 * and frame what it receives, recording it all in the wire trace.
 *
 * @module
 */

import type net from "node:net";
import type { Target } from "../../lib/args.ts";
import { describeError } from "../describe_error.ts";
import { connectSocket } from "../raw_peer.ts";
import type { TraceRecorder } from "../trace.ts";

/**
 * A line a fuzz client received.
 *
 * @example
 * ```ts
 * import type { FuzzLine } from "./fuzz_client.ts";
 * const line: FuzzLine = { bytes: new Uint8Array([104, 105]), terminator: "crlf" };
 * console.log(line.terminator);
 * ```
 */
export interface FuzzLine {
  /** Its content, terminator excluded. */
  bytes: Uint8Array;
  /** How the server ended it; `none` for bytes left when it closed. */
  terminator: "crlf" | "lf" | "none";
}

/**
 * A client of a fuzz run.
 *
 * @example
 * ```ts ignore
 * import { FuzzClient } from "./fuzz_client.ts";
 * import { TraceRecorder } from "../trace.ts";
 *
 * const a = await FuzzClient.connect("A", { hostname: "127.0.0.1", port: 7687 }, "127.9.0.3", new TraceRecorder(), 2000);
 * await a.write(new TextEncoder().encode("hi\n"));
 * a.close();
 * ```
 */
export class FuzzClient {
  /** Its name in the run. */
  readonly name: string;
  /** Every line received, in order. */
  readonly received: FuzzLine[] = [];
  /** How the server ended the connection, if it did. */
  ended: "eof" | "reset" | undefined;
  /** Whether the harness closed or reset it. */
  closed = false;
  readonly #socket: net.Socket;
  readonly #trace: TraceRecorder;
  #pending: number[] = [];
  #paused = false;
  #waiters: (() => void)[] = [];

  private constructor(name: string, socket: net.Socket, trace: TraceRecorder) {
    this.name = name;
    this.#socket = socket;
    this.#trace = trace;
    socket.on("data", (chunk: Uint8Array) => this.#frame(chunk));
    socket.once("end", () => this.#end("eof"));
    socket.on("error", (error: Error) => this.#end("reset", error));
    socket.once("close", () => this.#wake());
  }

  /**
   * Connects to `target` from `localAddress` (any, when undefined),
   * rejecting after `timeoutMs`.
   */
  static connect(
    name: string,
    target: Target,
    localAddress: string | undefined,
    trace: TraceRecorder,
    timeoutMs: number,
  ): Promise<FuzzClient> {
    return connectSocket(target, timeoutMs, localAddress).then((socket) => {
      trace.record(
        name,
        "connect",
        `${socket.localAddress}:${socket.localPort} → ${target.hostname}:${target.port}`,
      );
      return new FuzzClient(name, socket, trace);
    });
  }

  #frame(chunk: Uint8Array): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) continue;
      const bytes = Uint8Array.from([
        ...this.#pending,
        ...chunk.subarray(start, i),
      ]);
      this.#pending = [];
      start = i + 1;
      const crlf = bytes.at(-1) === 0x0d;
      const line: FuzzLine = {
        bytes: crlf ? bytes.subarray(0, -1) : bytes,
        terminator: crlf ? "crlf" : "lf",
      };
      this.received.push(line);
      this.#trace.record(this.name, "recv", line.bytes, {
        terminator: line.terminator === "crlf" ? "crlf" : "lf",
      });
    }
    this.#pending.push(...chunk.subarray(start));
    this.#wake();
  }

  #end(how: "eof" | "reset", error?: Error): void {
    if (this.#pending.length > 0) {
      const bytes = Uint8Array.from(this.#pending);
      this.#pending = [];
      this.received.push({ bytes, terminator: "none" });
      this.#trace.record(this.name, "recv", bytes);
      this.#trace.note(`${this.name}: the bytes above came with no LF`);
    }
    if (!this.closed && this.ended === undefined) {
      this.ended = how;
      this.#trace.record(
        this.name,
        how,
        error ? describeError(error) : undefined,
      );
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves true once `done()` holds, false if the connection ends or
   * `timeoutMs` passes first.
   */
  async waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (!done()) {
      const left = end - performance.now();
      if (left <= 0 || this.ended !== undefined || this.#socket.destroyed) {
        if (!done()) this.#trace.record(this.name, "timeout");
        return done();
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  }

  /** Writes `bytes`; resolves once the kernel has them. */
  write(bytes: Uint8Array): Promise<void> {
    this.#trace.record(this.name, "send", bytes);
    return new Promise((resolve) => {
      this.#socket.write(bytes, () => resolve());
    });
  }

  /** Stops reading (the kernel's buffers fill, then TCP pushes back). */
  pause(): void {
    this.#trace.note(`${this.name} stops reading`);
    this.#paused = true;
    this.#socket.pause();
  }

  /** Reads again (if it had stopped). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#trace.note(`${this.name} reads again`);
    this.#socket.resume();
  }

  /** Shuts down the sending side (FIN); it goes on reading. */
  halfClose(): void {
    this.#trace.record(this.name, "half-close");
    this.#socket.end();
  }

  /** Closes (FIN). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#trace.record(this.name, "close");
    this.#socket.destroy();
  }

  /** Resets (RST). */
  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.#trace.record(this.name, "reset", "sent RST");
    this.#socket.resetAndDestroy();
  }
}
