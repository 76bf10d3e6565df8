/**
 * What the server needs from a connected client, whatever carries it. Two
 * TCP transports implement it: `Deno.listen` ({@linkcode listenDeno}, the
 * default, also with TLS) and `node:net` ({@linkcode listenNode}); and a
 * WebSocket one ({@linkcode WebSocketTransport}), whose messages are lines.
 *
 * @module
 */

import { formatTarget } from "../lib/args.ts";
import type { CloseReason } from "./close_reason.ts";

/** How a transport's input ended. */
export type TransportEnd = "eof" | "reset" | "error";

/**
 * What carries a client: TCP, TCP with TLS, a WebSocket, a WebSocket over
 * TLS. Counted apart in the metrics.
 */
export type TransportKind = "tcp" | "tls" | "ws" | "wss";

/** Receives what a transport reads. */
export interface TransportSink {
  /**
   * Called for each chunk read. The chunk is valid only during the call
   * (transports reuse read buffers), which suits the framer: it hands out
   * views that are consumed before the call returns.
   */
  receive(chunk: Uint8Array): void;
  /**
   * Called, by transports whose messages are lines (WebSocket), with one
   * whole line, without terminator; valid only during the call.
   */
  receiveLine?(line: Uint8Array): void;
  /**
   * Called, by transports that decode frames of their own (WebSocket),
   * with the size of each chunk read, before decoding: what counts as the
   * client's input (bytes in, the idle timeout, `maxInputRate`).
   */
  receiveWire?(bytes: number): void;
  /**
   * Called, by the same transports, with how many frames that carry no
   * line were decoded (control frames, fragments): they are paced.
   */
  receiveControl?(frames: number): void;
  /**
   * Called once when the peer broke the transport's rules (a WebSocket
   * message over the line limit, or holding LF); the transport has told
   * the peer why and the client is to be closed with `reason`.
   */
  violation?(
    reason: "line-too-long" | "protocol-error",
    detail: string,
  ): void;
  /** Called once when input ends: EOF (FIN), a reset, or another error. */
  end(how: TransportEnd, error?: unknown): void;
}

/** A connected client's byte stream. */
export interface Transport {
  /** The peer's address as `host:port` (`[v6]:port` for IPv6). */
  readonly remoteAddr: string;
  /** The peer's host alone, unbracketed: what per-address limits count. */
  readonly remoteHost: string;
  /** What carries it. */
  readonly kind: TransportKind;
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
   * How this transport frames the room's lines (each ending in CR LF),
   * when it has frames of its own (WebSocket). It must be one function
   * shared by every transport of its kind: each batch is framed once and
   * the frames are shared by all of them. Absent: the lines are written
   * as they are.
   */
  readonly frame?: (lines: Uint8Array) => Uint8Array;
  /**
   * Whether the transport holds part of a message (a WebSocket frame or
   * fragmented message not complete): an unfinished line, for the line
   * timeout. Absent: the server's framer knows.
   */
  readonly partialInput?: boolean;
  /**
   * Writes some of `bytes`, resolving with how many were written (at least
   * one), or rejects when the connection is broken. One write at a time.
   * With {@linkcode Transport.frame}, `bytes` are frames it made.
   */
  write(bytes: Uint8Array): Promise<number>;
  /**
   * Stops reading and closes the connection at once; never throws. A
   * transport that can say why (WebSocket close codes) says `reason`.
   */
  close(reason?: CloseReason): void;
}

/** A listening transport, handing each accepted connection on. */
export interface TransportListener {
  /** The address actually bound (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** Stops accepting; resolves when the accept loop has ended. */
  close(): Promise<void>;
}

/** A TLS certificate chain and its private key, both PEM text. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Where and how to listen; see {@linkcode ChatServerOptions}. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** Serve TLS with this certificate and key (Deno transport only). */
  tls?: TlsFiles;
  /** Called for each accepted connection. */
  onConnection(transport: Transport): void;
  /** Called when accepting fails but the listener carries on (EMFILE…). */
  onAcceptError(error: unknown): void;
}

/** Formats an address as `host:port`, bracketing IPv6 hosts. */
export function formatAddr(hostname: string, port: number): string {
  return formatTarget({ hostname, port });
}
