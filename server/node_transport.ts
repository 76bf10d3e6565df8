/**
 * The `node:net` transport (`--transport node`). In Deno 2.9 `node:net`
 * sockets are driven natively and hold no pending read (nor its buffer)
 * while idle, so an idle client costs about a fifth less memory than with
 * `Deno.listen`; see the README's benchmark tables.
 *
 * `node:net` only accepts here. Reads and writes go through each socket's
 * native handle, not its streams: when a write fails (the peer reset),
 * node's streams destroy the whole socket and the lines the peer sent
 * before resetting, still unread in the kernel, are lost (§5.1). Through
 * the handle, a failed write fails alone and reading goes on to the end.
 *
 * @module
 */

import { isResetError } from "./close_reason.ts";
import net from "node:net";
import {
  checkStreamHandles,
  closedError,
  errnoError,
  isEof,
  lastWriteWasAsync,
  readOffset,
  readResult,
  type StreamHandle,
  streamHandleOf,
  WriteRequest,
} from "./_node_stream_handle.ts";
import {
  formatAddr,
  type ListenOptions,
  type Transport,
  type TransportListener,
  type TransportSink,
} from "./transport.ts";

/** Which transport a handle reads for: one `onread` serves them all. */
const owner = Symbol("NodeTransport");

type OwnedHandle = StreamHandle & { [owner]?: NodeTransport };

// Nothing emits 'error' on a socket whose streams are unused, but an
// 'error' without a listener would end the process: one shared no-op.
const ignoreError = () => {};

/**
 * A `node:net` socket as a {@linkcode Transport}, read and written through
 * its native handle.
 *
 * Paused (flood control), the handle stops reading, so what the peer sends
 * waits in the kernel and TCP pushes back on it; nothing is buffered here.
 *
 * @example
 * ```ts ignore
 * const transport = new NodeTransport(socket);
 * transport.start({ receive: (chunk) => {}, end: (how) => {} });
 * ```
 */
export class NodeTransport implements Transport {
  readonly remoteAddr: string;
  readonly remoteHost: string;
  readonly kind = "tcp" as const;
  readonly #socket: net.Socket;
  readonly #handle: OwnedHandle;
  #sink: TransportSink | undefined;
  #paused = false;
  /** Set once input ended (EOF or an error) or the transport closed. */
  #done = false;
  #closed = false;
  #pendingWrite: WriteRequest | undefined;

  /** Wraps a socket accepted with `pauseOnConnect` (its streams unused). */
  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#handle = streamHandleOf(socket);
    this.#handle[owner] = this;
    this.remoteHost = socket.remoteAddress ?? "?";
    this.remoteAddr = formatAddr(this.remoteHost, socket.remotePort ?? 0);
    socket.on("error", ignoreError);
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    // The handle takes `onread` when reading starts: stop any reading the
    // socket's streams began (none with pauseOnConnect) so ours takes over.
    this.#handle.readStop();
    this.#handle.onread = NodeTransport.#onRead;
    if (!this.#paused) this.#readStart();
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(closedError());
    const request = new WriteRequest(bytes);
    const status = this.#handle.writeBuffer(request, bytes);
    if (status !== 0) return Promise.reject(errnoError(status, "write"));
    if (!lastWriteWasAsync()) return Promise.resolve(bytes.length);
    this.#pendingWrite = request;
    return request.completion();
  }

  pauseReading(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#sink !== undefined && !this.#done) this.#handle.readStop();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#sink !== undefined && !this.#done) this.#readStart();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#done = true;
    // A write still queued when the handle closes is never reported.
    this.#pendingWrite?.cancel();
    this.#pendingWrite = undefined;
    try {
      this.#socket.destroy();
    } catch {
      // Already destroyed.
    }
  }

  #readStart(): void {
    const status = this.#handle.readStart();
    // Reported from a microtask, as a read would: the caller (start) is
    // not ready for end() yet.
    if (status < 0) queueMicrotask(() => this.#end(status));
  }

  /** The handle's read callback; `this` is the handle. */
  static #onRead(this: OwnedHandle, buffer: ArrayBuffer | undefined): void {
    const transport = this[owner];
    if (transport === undefined || transport.#done) return;
    const n = readResult();
    if (n > 0 && buffer !== undefined) {
      transport.#sink!.receive(new Uint8Array(buffer, readOffset(), n));
    } else if (n < 0) {
      transport.#end(n);
    }
  }

  /** Input ended with `status` (a negative errno); tells the sink once. */
  #end(status: number): void {
    if (this.#done) return;
    this.#done = true;
    if (isEof(status)) return this.#sink!.end("eof");
    const error = errnoError(status, "read");
    this.#sink!.end(isResetError(error) ? "reset" : "error", error);
  }
}

/** Maps `node:net` listen errors to the `Deno.errors` the CLI reports. */
function denoError(error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case "EADDRINUSE":
      return new Deno.errors.AddrInUse(error.message);
    case "EADDRNOTAVAIL":
      return new Deno.errors.AddrNotAvailable(error.message);
    case "EACCES":
      return new Deno.errors.PermissionDenied(error.message);
    default:
      return error;
  }
}

/**
 * Listens with `node:net`; rejects if it cannot (e.g. with
 * `Deno.errors.AddrInUse`).
 *
 * @example
 * ```ts
 * import { listenNode } from "./node_transport.ts";
 * const listener = await listenNode({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   onConnection: (transport) => transport.close(),
 *   onAcceptError: () => {},
 * });
 * await listener.close();
 * ```
 */
export function listenNode(options: ListenOptions): Promise<TransportListener> {
  try {
    checkStreamHandles();
  } catch (error) {
    return Promise.reject(error);
  }
  // pauseOnConnect: the socket's streams never read; its transport reads
  // the handle once started. allowHalfOpen: the server, not the socket,
  // decides when to close after a client's FIN.
  const server = net.createServer(
    { pauseOnConnect: true, allowHalfOpen: true, noDelay: true },
    (socket) => accept(socket, options),
  );
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(denoError(error)));
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.removeAllListeners("error");
      server.on("error", options.onAcceptError);
      const address = server.address() as net.AddressInfo;
      resolve({
        addr: { hostname: address.address, port: address.port },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function accept(socket: net.Socket, options: ListenOptions): void {
  let transport: NodeTransport;
  try {
    transport = new NodeTransport(socket);
  } catch (error) {
    // No handle: the peer is already gone.
    socket.destroy();
    options.onAcceptError(error);
    return;
  }
  options.onConnection(transport);
}
