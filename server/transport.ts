/**
 * What the server needs from a connected byte stream, whatever carries it.
 * Two TCP transports implement it: `Deno.listen` ({@linkcode listenDeno},
 * the default) and `node:net` ({@linkcode listenNode}, lighter per idle
 * connection); a WebSocket one can follow.
 *
 * @module
 */

import { formatTarget } from "../lib/args.ts";

/** How a transport's input ended. */
export type TransportEnd = "eof" | "reset" | "error";

/** Receives what a transport reads. */
export interface TransportSink {
  /**
   * Called for each chunk read. The chunk is valid only during the call
   * (transports reuse read buffers), which suits the framer: it hands out
   * views that are consumed before the call returns.
   */
  receive(chunk: Uint8Array): void;
  /** Called once when input ends: EOF (FIN), a reset, or another error. */
  end(how: TransportEnd, error?: unknown): void;
}

/** A connected client's byte stream. */
export interface Transport {
  /** The peer's address as `host:port` (`[v6]:port` for IPv6). */
  readonly remoteAddr: string;
  /** The peer's host alone, unbracketed: what per-address limits count. */
  readonly remoteHost: string;
  /** Starts reading into `sink`; call once. */
  start(sink: TransportSink): void;
  /**
   * Stops reading once the chunk being delivered (if any) is handled, so
   * TCP pushes back on the peer; nothing already read is lost. Calling it
   * while paused does nothing. This is how flood control slows a sender.
   */
  pauseReading(): void;
  /** Reads again after {@linkcode Transport.pauseReading}; else nothing. */
  resumeReading(): void;
  /**
   * Writes some of `bytes`, resolving with how many were written (at least
   * one), or rejects when the connection is broken. One write at a time.
   */
  write(bytes: Uint8Array): Promise<number>;
  /** Stops reading and closes the connection at once; never throws. */
  close(): void;
}

/** A listening transport, handing each accepted connection on. */
export interface TransportListener {
  /** The address actually bound (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** Stops accepting; resolves when the accept loop has ended. */
  close(): Promise<void>;
}

/** Where and how to listen; see {@linkcode ChatServerOptions}. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** Called for each accepted connection. */
  onConnection(transport: Transport): void;
  /** Called when accepting fails but the listener carries on (EMFILE…). */
  onAcceptError(error: unknown): void;
}

/** Formats an address as `host:port`, bracketing IPv6 hosts. */
export function formatAddr(hostname: string, port: number): string {
  return formatTarget({ hostname, port });
}
