/**
 * WebSocket clients (PROTOCOL.md §6): one message is one line, both ways,
 * over a connection the HTTP server upgraded. The frames are ours, over
 * the same byte transport TCP clients use, so flood control can stop
 * reading a WebSocket sender too (Deno's own WebSocket cannot pause its
 * reads), and a WebSocket reader's output goes through the same queue,
 * scheduler and limits as everyone's.
 *
 * @module
 */

import type { CloseReason } from "./close_reason.ts";
import {
  CLOSE_GOING_AWAY,
  CLOSE_INVALID_DATA,
  CLOSE_NORMAL,
  CLOSE_POLICY,
  CLOSE_TOO_BIG,
  CLOSE_TRY_LATER,
  closePayload,
  controlFrame,
  encodeLineFrames,
  FrameDecoder,
  OP_CLOSE,
  OP_PONG,
} from "../protocol/websocket_frames.ts";
import type { Transport, TransportEnd, TransportSink } from "./transport.ts";

/**
 * The WebSocket close code the server sends for each close reason: 1009
 * for a line over the limit, 1013 for a full server, 1001 for shutdown,
 * 1007 for a protocol error, 1008 for the other limits, 1000 otherwise.
 * The close frame's reason text is the close reason itself.
 *
 * @example
 * ```ts
 * import { WEBSOCKET_CLOSE_CODES } from "./websocket_transport.ts";
 * console.log(WEBSOCKET_CLOSE_CODES["line-too-long"]); // 1009
 * ```
 */
export const WEBSOCKET_CLOSE_CODES: Record<CloseReason, number> = {
  "eof": CLOSE_NORMAL,
  "reset": CLOSE_NORMAL,
  "line-too-long": CLOSE_TOO_BIG,
  "protocol-error": CLOSE_INVALID_DATA,
  "slow-consumer": CLOSE_POLICY,
  "server-full": CLOSE_TRY_LATER,
  "ip-limit": CLOSE_POLICY,
  "idle-timeout": CLOSE_POLICY,
  "line-timeout": CLOSE_POLICY,
  "shutdown": CLOSE_GOING_AWAY,
  "error": CLOSE_NORMAL,
};

/** How long a closing connection waits for its close frame to go out. */
const CLOSE_FRAME_WAIT_MS = 200;

/**
 * A {@linkcode Transport} over an upgraded HTTP connection: decodes the
 * client's frames (bounded by the line limit) into lines, and encodes each
 * relayed line as one frame, text when it is valid UTF-8, else binary.
 *
 * @example
 * ```ts ignore
 * // In the HTTP server, after the 101 response:
 * const transport = new WebSocketTransport(connection, rest, { maxLineBytes, secure: false });
 * server.admit(transport);
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly remoteAddr: string;
  readonly remoteHost: string;
  readonly kind: "ws" | "wss";
  readonly #inner: Transport;
  readonly #early: Uint8Array;
  readonly #maxLineBytes: number;
  /** Writes go out one after another: data, pongs and the close frame. */
  #writes: Promise<unknown> = Promise.resolve();
  /**
   * The payload of the pong waiting its turn to be written. Only the
   * latest ping is answered (RFC 6455 §5.5.3 allows it): a client that
   * pings without reading holds one pong, never a queue of them.
   */
  #pongPayload: Uint8Array | undefined;
  #closed = false;
  #sink: TransportSink | undefined;
  #decoder: FrameDecoder | undefined;

  /**
   * Wraps `inner`, the upgraded connection; `early` holds bytes that came
   * after the HTTP request in the same read (the client's first frames).
   */
  constructor(
    inner: Transport,
    early: Uint8Array,
    options: { maxLineBytes: number; secure: boolean },
  ) {
    this.#inner = inner;
    this.#early = early;
    this.#maxLineBytes = options.maxLineBytes;
    this.remoteAddr = inner.remoteAddr;
    this.remoteHost = inner.remoteHost;
    this.kind = options.secure ? "wss" : "ws";
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    const decoder = new FrameDecoder(this.#maxLineBytes, {
      message: (bytes) => {
        if (bytes.includes(0x0a)) {
          this.#violation(
            "protocol-error",
            CLOSE_INVALID_DATA,
            "a line cannot hold LF",
          );
        } else {
          sink.receiveLine?.(bytes);
        }
      },
      ping: (payload) => this.#pong(payload),
      // The client closed: it leaves as a TCP client's FIN does (what is
      // queued for it is written first), and close() answers its frame.
      close: () => this.#end("eof"),
      fail: (code, reason) =>
        this.#violation(
          code === CLOSE_TOO_BIG ? "line-too-long" : "protocol-error",
          code,
          reason,
        ),
    });
    this.#decoder = decoder;
    const receive = (chunk: Uint8Array) => {
      sink.receiveWire?.(chunk.length);
      const frames = decoder.extraFrames;
      decoder.push(chunk);
      if (decoder.extraFrames > frames) {
        sink.receiveControl?.(decoder.extraFrames - frames);
      }
    };
    if (this.#early.length > 0) receive(this.#early);
    this.#inner.start({
      receive,
      end: (how, error) => this.#end(how, error),
    });
  }

  get partialInput(): boolean {
    return this.#decoder?.inMessage ?? false;
  }

  pauseReading(): void {
    this.#inner.pauseReading();
  }

  resumeReading(): void {
    this.#inner.resumeReading();
  }

  /** Each line (ending in CR LF) as one frame: the queue frames batches. */
  readonly frame: (lines: Uint8Array) => Uint8Array = encodeLineFrames;

  /** Writes frames that {@linkcode WebSocketTransport.frame} made. */
  write(bytes: Uint8Array): Promise<number> {
    return this.#enqueue(bytes).then(() => bytes.length);
  }

  close(reason: CloseReason = "eof"): void {
    if (this.#closed) return;
    this.#closed = true;
    const frame = controlFrame(
      OP_CLOSE,
      closePayload(WEBSOCKET_CLOSE_CODES[reason], reason),
    );
    this.#closeAfter(frame);
  }

  /**
   * Sends `frame` after what is already being written, then closes; never
   * waits long: a client that stopped reading (a slow consumer) would
   * never take the frame.
   */
  #closeAfter(frame: Uint8Array): void {
    const timer = setTimeout(() => this.#inner.close(), CLOSE_FRAME_WAIT_MS);
    this.#enqueue(frame).catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.#inner.close();
    });
  }

  #pong(payload: Uint8Array): void {
    const waiting = this.#pongPayload !== undefined;
    // The payload is the decoder's view, valid only during the call.
    this.#pongPayload = payload.slice();
    if (waiting || this.#closed) return;
    const written = this.#writes.then(() => {
      const frame = controlFrame(OP_PONG, this.#pongPayload!);
      this.#pongPayload = undefined;
      return this.#writeAll(frame);
    });
    this.#writes = written.catch(() => {});
  }

  #violation(
    reason: "line-too-long" | "protocol-error",
    code: number,
    detail: string,
  ): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeAfter(
      controlFrame(OP_CLOSE, closePayload(code, `${reason}: ${detail}`)),
    );
    this.#sink?.violation?.(reason, detail);
  }

  #end(how: TransportEnd, error?: unknown): void {
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.end(how, error);
  }

  /** Queues `bytes` after every earlier write; resolves once written. */
  #enqueue(bytes: Uint8Array): Promise<void> {
    const written = this.#writes.then(() => this.#writeAll(bytes));
    this.#writes = written.catch(() => {});
    return written;
  }

  /** Writes all of `bytes` through the inner transport. */
  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.#inner.write(bytes.subarray(offset));
    }
  }
}
