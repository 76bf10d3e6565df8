/**
 * A WebSocket client connection that reads and writes like a TCP one, so
 * that a `ChatClient` (and everything built on it) joins a room
 * over `ws://host:port/path` as it does over TCP. PROTOCOL.md §6: one
 * message is one line. What is written is cut at each LF into messages
 * (text when the line is UTF-8, binary otherwise; a CR before the LF is
 * the terminator's); each message received reads as its bytes and CR LF,
 * which is how a TCP server ends a line.
 *
 * It is built on the byte stream rather than the `WebSocket` global
 * because a `WebSocket` reads whatever arrives: a client that stops
 * reading here really stops reading, so the server sees a slow consumer,
 * as it would over TCP.
 *
 * @module
 */

import {
  acceptKey,
  clientFrame,
  CLOSE_NORMAL,
  closePayload,
  FrameDecoder,
  isUtf8,
  OP_BINARY,
  OP_CLOSE,
  OP_PONG,
  OP_TEXT,
} from "../protocol/websocket_frames.ts";

const LF = 0x0a;
const CR = 0x0d;
const CRLF = Uint8Array.of(CR, LF);
/** The most a server's handshake response may take. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** Options for {@linkcode WebSocketConn.open}. */
export interface WebSocketConnOptions {
  /** `Host` header: the server's `host:port`. */
  host: string;
  /**
   * The endpoint's path and query.
   *
   * @default {"/ws"}
   */
  path?: string;
  /**
   * The longest message taken from the server; a longer one fails the
   * connection (1009).
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * How long the server may take to answer the upgrade; then the
   * connection is closed and `open` rejects (a server that is not HTTP
   * may never answer).
   *
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
}

/**
 * A WebSocket client over an open TCP or TLS connection, with the read,
 * write and close of a `Deno.Conn`.
 *
 * @example
 * ```ts ignore
 * import { WebSocketConn } from "./websocket_conn.ts";
 * const tcp = await Deno.connect({ hostname: "127.0.0.1", port: 7688 });
 * const ws = await WebSocketConn.open(tcp, { host: "127.0.0.1:7688" });
 * await ws.write(new TextEncoder().encode("hello\n")); // one message, "hello"
 * ws.close();
 * ```
 */
export class WebSocketConn {
  /** The code of the server's close frame, once one came (1005: none). */
  closeCode: number | undefined;
  /** The reason in the server's close frame, or what broke the protocol. */
  closeReason = "";

  readonly #conn: Deno.Conn;
  readonly #decoder: FrameDecoder;
  readonly #chunk = new Uint8Array(16 * 1024);
  /** Received lines, each ended by CR LF, not read yet: `[#start, #end)`. */
  #ready = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  /** Bytes written with no LF after them yet. */
  #partial: Uint8Array[] = [];
  #eof = false;
  #sentClose = false;
  /** Control frames (pong, close) to send before the next read. */
  #control: Uint8Array[] = [];

  private constructor(conn: Deno.Conn, maxMessageBytes: number) {
    this.#conn = conn;
    this.#decoder = new FrameDecoder(maxMessageBytes, {
      message: (bytes) => this.#append(bytes),
      ping: (payload) => this.#control.push(clientFrame(OP_PONG, payload)),
      close: (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason;
        this.#eof = true;
        this.#queueClose(code === 1005 ? CLOSE_NORMAL : code, "");
      },
      fail: (code, reason) => {
        this.closeReason = reason;
        this.#eof = true;
        this.#queueClose(code, reason);
      },
    }, { from: "server" });
  }

  /**
   * Performs the opening handshake (RFC 6455 §4.1) on `conn` and returns
   * the connection. Rejects, closing `conn`, when the server does not
   * answer 101 with the right `Sec-WebSocket-Accept`.
   */
  static async open(
    conn: Deno.Conn,
    options: WebSocketConnOptions,
  ): Promise<WebSocketConn> {
    const key = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
    );
    const request = `GET ${options.path ?? "/ws"} HTTP/1.1\r\n` +
      `Host: ${options.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const ws = new WebSocketConn(conn, options.maxMessageBytes ?? 1024 * 1024);
    const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.close();
    }, timeoutMs);
    try {
      await writeAll(conn, new TextEncoder().encode(request));
      const rest = await ws.#handshake(await acceptKey(key));
      if (rest.length > 0) ws.#decoder.push(rest);
    } catch (error) {
      if (timedOut) {
        throw new Deno.errors.TimedOut(
          `no answer to the WebSocket upgrade within ${timeoutMs} ms (is it an HTTP port?)`,
        );
      }
      conn.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return ws;
  }

  /** This end's address. */
  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /** The server's address. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /**
   * Reads received lines into `buffer`; `null` once the server closed
   * (its close frame, or the connection's end) and everything before it
   * was read.
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#start === this.#end) {
      await this.#flushControl();
      if (this.#eof) return null;
      const n = await this.#conn.read(this.#chunk);
      if (n === null) {
        this.#eof = true;
        return null;
      }
      this.#decoder.push(this.#chunk.subarray(0, n));
    }
    const n = Math.min(this.#end - this.#start, buffer.length);
    buffer.set(this.#ready.subarray(this.#start, this.#start + n));
    this.#start += n;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // A long message is not held on to once read.
      if (this.#ready.length > 64 * 1024) {
        this.#ready = new Uint8Array(16 * 1024);
      }
    }
    return n;
  }

  /** Queues a received message as a line ended by CR LF. */
  #append(message: Uint8Array): void {
    const needed = this.#end + message.length + 2;
    if (needed > this.#ready.length) {
      const held = this.#end - this.#start;
      const size = Math.max(this.#ready.length, held + message.length + 2);
      const grown = size > this.#ready.length
        ? new Uint8Array(Math.max(size, this.#ready.length * 2))
        : this.#ready;
      grown.set(this.#ready.subarray(this.#start, this.#end));
      this.#ready = grown;
      this.#start = 0;
      this.#end = held;
    }
    this.#ready.set(message, this.#end);
    this.#ready.set(CRLF, this.#end + message.length);
    this.#end += message.length + 2;
  }

  /**
   * Sends every complete line in `bytes` (with what was written before
   * it) as a message; bytes after the last LF wait for the next one.
   * Returns `bytes.length`.
   */
  async write(bytes: Uint8Array): Promise<number> {
    const frames: Uint8Array[] = [];
    let start = 0;
    for (let lf = bytes.indexOf(LF); lf !== -1; lf = bytes.indexOf(LF, start)) {
      this.#partial.push(bytes.subarray(start, lf));
      let line = concat(this.#partial);
      this.#partial = [];
      if (line.length > 0 && line[line.length - 1] === CR) {
        line = line.subarray(0, -1);
      }
      frames.push(clientFrame(isUtf8(line) ? OP_TEXT : OP_BINARY, line));
      start = lf + 1;
    }
    if (start < bytes.length) this.#partial.push(bytes.slice(start));
    if (frames.length > 0) await writeAll(this.#conn, concat(frames));
    return bytes.length;
  }

  /**
   * A WebSocket has no half-close: sends a close frame (1000), so the
   * server closes; what it sent before can still be read. An unfinished
   * line is dropped, as a TCP server drops it.
   */
  async closeWrite(): Promise<void> {
    this.#partial = [];
    this.#queueClose(CLOSE_NORMAL, "");
    await this.#flushControl();
  }

  /** Closes the connection at once. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  #queueClose(code: number, reason: string): void {
    if (this.#sentClose) return;
    this.#sentClose = true;
    this.#control.push(clientFrame(OP_CLOSE, closePayload(code, reason)));
  }

  async #flushControl(): Promise<void> {
    while (this.#control.length > 0) {
      const frame = this.#control.shift()!;
      try {
        await writeAll(this.#conn, frame);
      } catch {
        // The server is gone: reading will say so.
        this.#control = [];
      }
    }
  }

  /** Reads the response head; returns the bytes after it. */
  async #handshake(expectedAccept: string): Promise<Uint8Array> {
    let head: Uint8Array = new Uint8Array(0);
    while (true) {
      const n = await this.#conn.read(this.#chunk);
      if (n === null) {
        throw new Deno.errors.ConnectionReset(
          "the server closed the connection during the WebSocket handshake",
        );
      }
      head = concat([head, this.#chunk.subarray(0, n)]);
      const end = indexOfHeadEnd(head);
      if (end !== -1) {
        checkResponse(
          new TextDecoder().decode(head.subarray(0, end)),
          expectedAccept,
        );
        return head.slice(end + 4);
      }
      if (head.length > MAX_HANDSHAKE_BYTES) {
        throw new Deno.errors.InvalidData(
          `the WebSocket handshake response is over ${MAX_HANDSHAKE_BYTES} bytes`,
        );
      }
    }
  }
}

function checkResponse(head: string, expectedAccept: string): void {
  const [status, ...fields] = head.split("\r\n");
  if (!/^HTTP\/1\.1 101\b/.test(status)) {
    throw new Deno.errors.InvalidData(
      `the server refused the WebSocket upgrade: "${status.slice(0, 80)}"`,
    );
  }
  const accept = fields
    .map((field) => /^sec-websocket-accept:\s*(\S+)\s*$/i.exec(field)?.[1])
    .find((value) => value !== undefined);
  if (accept !== expectedAccept) {
    throw new Deno.errors.InvalidData(
      "the server's Sec-WebSocket-Accept does not match the key sent",
    );
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === CR && bytes[i + 1] === LF && bytes[i + 2] === CR &&
      bytes[i + 3] === LF
    ) return i;
  }
  return -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
}
