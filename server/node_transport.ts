/**
 * The `node:net` transport (`--transport node`). In Deno 2.9 `node:net`
 * connections are driven natively: an idle one holds no pending read (nor
 * its buffer), and a write that the kernel takes at once completes
 * synchronously, with no promise or op to settle. So an idle client costs
 * less memory, and a delivery less CPU, than with `Deno.listen`; see
 * docs/performance.md.
 *
 * `node:net` only listens here. Each accepted connection's native handle
 * is read and written directly, and no `net.Socket` is made: when a write
 * fails (the peer reset), node's streams destroy the whole socket and the
 * lines the peer sent before resetting, still unread in the kernel, are
 * lost (§5.1). Through the handle, a failed write fails alone and reading
 * goes on to the end.
 *
 * @module
 */

import { isResetError } from "./close_reason.ts";
import net from "node:net";
import {
  acceptHandles,
  checkStreamHandles,
  closedError,
  errnoError,
  isEof,
  lastWriteWasAsync,
  readOffset,
  readResult,
  type StreamHandle,
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

// Clients of a room mostly share a few hosts: one string for consecutive
// peers of one host, not one each.
let lastHost = "?";

/**
 * An accepted `node:net` connection's native handle as a
 * {@linkcode Transport}.
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
  readonly remoteHost: string;
  readonly kind = "tcp" as const;
  readonly #handle: OwnedHandle;
  readonly #port: number;
  #sink: TransportSink | undefined;
  #paused = false;
  /** Set once input ended (EOF or an error) or the transport closed. */
  #done = false;
  #closed = false;
  #pendingWrite: WriteRequest | undefined;

  /** Wraps an accepted handle, with Nagle's algorithm off (§2.11). */
  constructor(handle: StreamHandle) {
    this.#handle = handle;
    this.#handle[owner] = this;
    const peer: { address?: string; port?: number } = {};
    handle.getpeername(peer);
    const host = peer.address ?? "?";
    this.remoteHost = host === lastHost ? lastHost : (lastHost = host);
    this.#port = peer.port ?? 0;
    handle.setNoDelay(true);
  }

  /** Made when asked (logs), not held by every idle client. */
  get remoteAddr(): string {
    return formatAddr(this.remoteHost, this.#port);
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
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
    this.#handle[owner] = undefined;
    try {
      this.#handle.close();
    } catch {
      // Already closed.
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
  // The server only binds and listens: acceptHandles takes each accepted
  // handle before node would wrap it in a net.Socket.
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(denoError(error)));
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.removeAllListeners("error");
      server.on("error", options.onAcceptError);
      try {
        acceptHandles(
          server,
          (handle) => accept(handle, options),
          (status) => options.onAcceptError(errnoError(status, "accept")),
        );
      } catch (error) {
        server.close();
        return reject(error);
      }
      const address = server.address() as net.AddressInfo;
      resolve({
        addr: { hostname: address.address, port: address.port },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function accept(handle: StreamHandle, options: ListenOptions): void {
  let transport: NodeTransport;
  try {
    transport = new NodeTransport(handle);
  } catch (error) {
    handle.close();
    options.onAcceptError(error);
    return;
  }
  options.onConnection(transport);
}
