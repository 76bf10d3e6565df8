/**
 * The `node:net` transport (`--transport node`). In Deno 2.9 `node:net`
 * sockets are driven natively and hold no pending read (nor its buffer)
 * while idle, so an idle client costs about a fifth less memory than with
 * `Deno.listen`; see the README's benchmark tables.
 *
 * @module
 */

import net from "node:net";
import {
  formatAddr,
  type ListenOptions,
  type Transport,
  type TransportListener,
  type TransportSink,
} from "./transport.ts";

const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
]);

/**
 * A `node:net` socket as a {@linkcode Transport}.
 *
 * @example
 * ```ts ignore
 * const transport = new NodeTransport(socket);
 * transport.start({ receive: (chunk) => {}, end: (how) => {} });
 * ```
 */
export class NodeTransport implements Transport {
  readonly remoteAddr: string;
  readonly #socket: net.Socket;

  /** Wraps an accepted socket. */
  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddr = formatAddr(
      socket.remoteAddress ?? "?",
      socket.remotePort ?? 0,
    );
  }

  start(sink: TransportSink): void {
    const socket = this.#socket;
    socket.on("data", (chunk: Uint8Array) => sink.receive(chunk));
    socket.on("end", () => sink.end("eof"));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      sink.end(RESET_CODES.has(error.code ?? "") ? "reset" : "error", error);
    });
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      // The callback runs once the bytes are handed to the kernel, so one
      // write in flight at a time keeps the queue ours, not the socket's.
      this.#socket.write(
        bytes,
        (error) => error ? reject(error) : resolve(bytes.length),
      );
    });
  }

  close(): void {
    this.#socket.destroy();
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
  // allowHalfOpen: the server, not the socket, decides when to close after
  // a client's FIN (it first finishes writing what is queued for it).
  const server = net.createServer(
    { allowHalfOpen: true, noDelay: true },
    (socket) => {
      options.onConnection(new NodeTransport(socket));
    },
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
