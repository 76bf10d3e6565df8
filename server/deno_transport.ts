/**
 * The `Deno.listen` transport: the server's default.
 *
 * @module
 */

import {
  borrowBurstBuffer,
  borrowIdleBuffer,
  returnBurstBuffer,
  returnIdleBuffer,
} from "./_read_buffers.ts";
import { isResetError } from "./close_reason.ts";
import {
  formatAddr,
  type ListenOptions,
  type Transport,
  type TransportListener,
  type TransportSink,
} from "./transport.ts";

/**
 * A `Deno.Conn` as a {@linkcode Transport}.
 *
 * Every idle connection keeps a read pending, holding its buffer, so the
 * connection's own buffer is small; a read that fills it signals a burst
 * and the next read borrows a large pooled buffer instead. A paused
 * transport (flood control) keeps no read pending at all.
 *
 * @example
 * ```ts ignore
 * const transport = new DenoTransport(await listener.accept());
 * transport.start({ receive: (chunk) => {}, end: (how) => {} });
 * ```
 */
export class DenoTransport implements Transport {
  readonly remoteAddr: string;
  readonly remoteHost: string;
  readonly kind: "tcp" | "tls";
  readonly #conn: Deno.Conn;
  #closed = false;
  #paused = false;
  /** Set while the read loop waits for {@linkcode resumeReading}. */
  #resume: (() => void) | undefined;

  /**
   * Wraps an accepted connection (a `Deno.TlsConn` for `kind` `"tls"`),
   * with Nagle's algorithm off (§2.11).
   */
  constructor(conn: Deno.Conn, kind: "tcp" | "tls" = "tcp") {
    this.#conn = conn;
    this.kind = kind;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.remoteAddr = formatAddr(remote.hostname, remote.port);
    this.remoteHost = remote.hostname;
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // The peer is already gone; the first read will say so.
    }
  }

  start(sink: TransportSink): void {
    this.#readLoop(sink);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  pauseReading(): void {
    this.#paused = true;
  }

  resumeReading(): void {
    this.#paused = false;
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.resumeReading();
  }

  async #readLoop(sink: TransportSink): Promise<void> {
    const idle = borrowIdleBuffer();
    let burst = false;
    try {
      while (!this.#closed) {
        // Paused (flood control): no read is pending, so the kernel's
        // receive buffer fills and TCP pushes back on the sender.
        if (this.#paused) {
          await new Promise<void>((resolve) => this.#resume = resolve);
          if (this.#closed) return;
        }
        const buffer: Uint8Array = burst ? borrowBurstBuffer() : idle;
        let n: number | null;
        try {
          n = await this.#conn.read(buffer);
        } catch (error) {
          if (burst) returnBurstBuffer(buffer);
          if (!this.#closed) {
            sink.end(
              isResetError(error) ? "reset" : "error",
              error,
            );
          }
          return;
        }
        if (n === null) {
          if (burst) returnBurstBuffer(buffer);
          if (!this.#closed) sink.end("eof");
          return;
        }
        sink.receive(buffer.subarray(0, n));
        if (burst) returnBurstBuffer(buffer);
        // Only a full idle slot starts a burst: after a burst read the next
        // read is small again, so a client that goes quiet after a burst
        // waits with its 128-byte slot, not a 64 KiB buffer.
        burst = !burst && n === buffer.length;
      }
    } finally {
      // No read is pending into it any more.
      returnIdleBuffer(idle);
    }
  }
}

/**
 * Listens with `Deno.listen`; throws at once if it cannot (e.g.
 * `Deno.errors.AddrInUse`).
 *
 * @example
 * ```ts
 * import { listenDeno } from "./deno_transport.ts";
 * const listener = listenDeno({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   onConnection: (transport) => transport.close(),
 *   onAcceptError: () => {},
 * });
 * await listener.close();
 * ```
 */
export function listenDeno(options: ListenOptions): TransportListener {
  const listener: Deno.Listener = options.tls === undefined
    ? Deno.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
    })
    : Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
    });
  const kind = options.tls === undefined ? "tcp" : "tls";
  let closing = false;
  const accepting = (async () => {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        options.onAcceptError(error);
        // A connection reset before it was accepted (NotConnected) fails on
        // its own: go on at once. Only EMFILE and friends call for a pause;
        // pausing for every reset let clients that connect and reset stall
        // accepting for everyone (100 ms each).
        if (!isResetError(error)) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        continue;
      }
      options.onConnection(new DenoTransport(conn, kind));
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    async close() {
      closing = true;
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await accepting;
    },
  };
}
