/**
 * {@linkcode RawPeer}: a `node:net` client for what `ChatClient` cannot
 * do, leaving by reset (RST). It sends through the same path as
 * {@linkcode Peer}; what it receives is counted and dropped.
 *
 * @module
 */

import net from "node:net";
import type { Target } from "../lib/args.ts";
import { describeError } from "./describe_error.ts";
import { LineWriter } from "./line_writer.ts";
import type { TraceRecorder } from "./trace.ts";

/**
 * A `node:net` client for leaving by reset (RST), which `ChatClient`
 * cannot do. It only writes; what it receives is counted and dropped, so
 * it never falls behind as a slow consumer.
 *
 * @example
 * ```ts ignore
 * import { RawPeer } from "./raw_peer.ts";
 * import { TraceRecorder } from "./trace.ts";
 *
 * const peer = await RawPeer.connect("X", { hostname: "127.0.0.1", port: 7687 }, new TraceRecorder(), 2000);
 * await peer.send("bye");
 * peer.reset();
 * ```
 */
export class RawPeer extends LineWriter {
  /** Bytes received (and dropped). */
  bytesReceived = 0;
  /**
   * Resolves when the server ends the connection: `eof` (FIN) or `reset`
   * (RST or another error). Never rejects; stays pending while it is open.
   */
  readonly remoteClosed: Promise<"eof" | "reset">;
  readonly #socket: net.Socket;
  #closed = false;
  #ended: "eof" | "reset" | undefined;

  private constructor(name: string, socket: net.Socket, trace: TraceRecorder) {
    super(name, trace);
    this.#socket = socket;
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
    target: Target,
    trace: TraceRecorder,
    timeoutMs: number,
  ): Promise<RawPeer> {
    return connectSocket(target, timeoutMs).then((socket) => {
      trace.record(name, "connect", "raw socket (can reset)");
      return new RawPeer(name, socket, trace);
    });
  }

  /** Resolves once the bytes are handed to the kernel. */
  protected transmit(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  /** Resets the connection: the server sees RST, not FIN. */
  reset(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.trace.record(this.name, "reset", "sent RST");
    this.#socket.resetAndDestroy();
  }

  /** Half-closes (FIN on the sending side). */
  end(): void {
    this.trace.record(this.name, "half-close");
    this.#socket.end();
  }

  /** Closes the connection (FIN). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.trace.record(this.name, "close");
    this.#socket.destroy();
  }
}

/**
 * A `node:net` socket connected to `target` (from `localAddress`, if
 * given), Nagle off; rejects with the socket's error, or after
 * `timeoutMs`. The raw peers and the fuzz clients connect with it.
 *
 * @example
 * ```ts ignore
 * import { connectSocket } from "./raw_peer.ts";
 * const socket = await connectSocket({ hostname: "127.0.0.1", port: 7687 }, 2000);
 * socket.destroy();
 * ```
 */
export function connectSocket(
  target: Target,
  timeoutMs: number,
  localAddress?: string,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: target.hostname,
      port: target.port,
      ...(localAddress ? { localAddress } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
