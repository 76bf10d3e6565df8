/**
 * WebSocket framing (RFC 6455 §5), bounded, for both ends: a decoder of
 * the peer's frames (masked when they come from a client, unmasked from a
 * server), the server's encoder of relayed lines, and the client's masked
 * frames. PROTOCOL.md §6 maps lines onto messages; the server's
 * `websocket_transport.ts` and the client's `websocket_conn.ts` use it.
 *
 * @example
 * ```ts
 * import { clientFrame, FrameDecoder, OP_TEXT } from "./websocket_frames.ts";
 * const lines: string[] = [];
 * const decoder = new FrameDecoder(1024, {
 *   message: (bytes) => lines.push(new TextDecoder().decode(bytes)),
 *   ping() {},
 *   close() {},
 *   fail() {},
 * });
 * decoder.push(clientFrame(OP_TEXT, new TextEncoder().encode("hi")));
 * console.log(lines); // ["hi"]
 * ```
 *
 * @module
 */

/** Opcodes (RFC 6455 §5.2). */
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes (RFC 6455 §7.4.1) the server sends. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_TRY_LATER = 1013;

/** What the decoder hands on. */
export interface FrameHandler {
  /** A complete data message (text or binary), unmasked. */
  message(bytes: Uint8Array, text: boolean): void;
  /** A ping's payload, to answer with a pong. */
  ping(payload: Uint8Array): void;
  /** The peer's close frame: its code (1005 if none) and reason. */
  close(code: number, reason: string): void;
  /** The peer broke the protocol: close with `code`, saying `reason`. */
  fail(code: number, reason: string): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);
/** A frame buffer up to this size is kept between frames, for reuse. */
const KEPT_BUFFER_BYTES = 4096;

/** Whether `bytes` is valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  // A fast path for ASCII, the common case for chat lines.
  let i = 0;
  while (i < bytes.length && bytes[i] < 0x80) i++;
  if (i === bytes.length) return true;
  try {
    utf8.decode(bytes.subarray(i));
    return true;
  } catch {
    return false;
  }
}

/** Options for {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Whose frames are decoded: a client's must be masked, a server's must
   * not be (RFC 6455 §5.1).
   *
   * @default {"client"}
   */
  from?: "client" | "server";
}

/**
 * Decodes the peer's frames from chunks as they arrive. A message's
 * payload is never held beyond `maxMessageBytes`: a longer one fails at
 * once with 1009, before it is buffered. Control frames are answered
 * through the handler; every protocol breach fails the connection once.
 *
 * @example
 * ```ts
 * import { controlFrame, FrameDecoder, OP_PING } from "./websocket_frames.ts";
 * const decoder = new FrameDecoder(1024, {
 *   message() {},
 *   ping: (payload) => console.log("ping", payload.length),
 *   close() {},
 *   fail() {},
 * }, { from: "server" });
 * decoder.push(controlFrame(OP_PING, new Uint8Array(3))); // "ping 3"
 * ```
 */
export class FrameDecoder {
  readonly #maxMessageBytes: number;
  readonly #handler: FrameHandler;
  readonly #masked: boolean;
  /**
   * Bytes of a frame that spans chunks: `#buffer[0, #buffered)`, grown by
   * doubling (so a message arriving a byte at a time costs linear work),
   * never past one frame of the largest message.
   */
  #buffer: Uint8Array = EMPTY;
  #buffered = 0;
  /**
   * The message being assembled from fragments: `#message[0,
   * #fragmentBytes)`, one buffer grown by doubling up to the bound, so
   * that many tiny (or empty) fragments hold no object each.
   */
  #message: Uint8Array = EMPTY;
  #fragmentBytes = 0;
  #extraFrames = 0;
  #fragmentText = false;
  #inMessage = false;
  #failed = false;

  constructor(
    maxMessageBytes: number,
    handler: FrameHandler,
    options: FrameDecoderOptions = {},
  ) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#handler = handler;
    this.#masked = (options.from ?? "client") === "client";
  }

  /** Bytes held for a frame not complete yet. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Whether a message is unfinished: a frame or a fragmented message is
   * partly received (what a line timeout watches).
   */
  get inMessage(): boolean {
    return this.#inMessage || this.#buffered > 0;
  }

  /**
   * Frames decoded so far that were not a whole message by themselves:
   * control frames, and the fragments of fragmented messages beyond one
   * per message. They cost work but carry no line, so the server paces
   * them.
   */
  get extraFrames(): number {
    return this.#extraFrames;
  }

  /** Feeds bytes read from the connection (valid only during the call). */
  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    let data = chunk;
    let length = chunk.length;
    if (this.#buffered > 0) {
      this.#append(chunk);
      data = this.#buffer;
      length = this.#buffered;
    }
    let offset = 0;
    while (offset < length && !this.#failed) {
      const used = this.#frame(data, offset, length);
      if (used === 0) break;
      offset += used;
    }
    if (this.#failed) return;
    if (data === this.#buffer) {
      this.#buffer.copyWithin(0, offset, length);
      this.#buffered = length - offset;
      // A read appended whole grew it: keep only the frame's tail (small
      // buffers are kept for reuse), so an idle client holds no burst.
      if (
        this.#buffer.length > KEPT_BUFFER_BYTES &&
        this.#buffered * 4 < this.#buffer.length
      ) {
        this.#buffer = this.#buffered === 0
          ? EMPTY
          : this.#buffer.slice(0, this.#buffered);
      }
    } else if (offset < length) {
      this.#buffered = 0;
      this.#append(chunk.subarray(offset));
    }
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#buffered + bytes.length;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(
        Math.max(needed, this.#buffer.length * 2, 256),
      );
      grown.set(this.#buffer.subarray(0, this.#buffered));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#buffered);
    this.#buffered = needed;
  }

  /**
   * Decodes one frame at `offset`; returns the bytes it used, or 0 when
   * the frame is not complete yet.
   */
  #frame(data: Uint8Array, offset: number, end: number): number {
    if (end - offset < 2) return 0;
    const b0 = data[offset];
    const b1 = data[offset + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) {
      return this.#fail(CLOSE_PROTOCOL_ERROR, "reserved bits set");
    }
    if (((b1 & 0x80) !== 0) !== this.#masked) {
      return this.#fail(
        CLOSE_PROTOCOL_ERROR,
        this.#masked
          ? "client frames must be masked"
          : "server frames must not be masked",
      );
    }
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      if (end - offset < 4) return 0;
      length = (data[offset + 2] << 8) | data[offset + 3];
      header = 4;
    } else if (length === 127) {
      if (end - offset < 10) return 0;
      const view = new DataView(data.buffer, data.byteOffset + offset + 2, 8);
      const high = view.getUint32(0);
      if (high !== 0) return this.#fail(CLOSE_TOO_BIG, "line-too-long");
      length = view.getUint32(4);
      header = 10;
    }
    const control = opcode >= 0x8;
    if (control || !fin || this.#inMessage) this.#extraFrames++;
    if (control && (length > 125 || !fin)) {
      return this.#fail(CLOSE_PROTOCOL_ERROR, "bad control frame");
    }
    if (!control && this.#fragmentBytes + length > this.#maxMessageBytes) {
      return this.#fail(CLOSE_TOO_BIG, "line-too-long");
    }
    const maskBytes = this.#masked ? 4 : 0;
    const total = header + maskBytes + length;
    // Incomplete: held, at most the bound plus a header (checked above).
    if (end - offset < total) return 0;
    const payload = data.slice(offset + header + maskBytes, offset + total);
    if (this.#masked) {
      const mask = data.subarray(offset + header, offset + header + 4);
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    }
    this.#dispatch(opcode, fin, payload);
    return total;
  }

  #dispatch(opcode: number, fin: boolean, payload: Uint8Array): void {
    switch (opcode) {
      case OP_PING:
        this.#handler.ping(payload);
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        const code = payload.length >= 2
          ? (payload[0] << 8) | payload[1]
          : 1005;
        const reason = payload.length > 2 && isUtf8(payload.subarray(2))
          ? utf8.decode(payload.subarray(2))
          : "";
        this.#handler.close(code, reason);
        return;
      }
      case OP_TEXT:
      case OP_BINARY:
        if (this.#inMessage) {
          this.#fail(
            CLOSE_PROTOCOL_ERROR,
            "a new message inside a fragmented one",
          );
          return;
        }
        this.#fragmentText = opcode === OP_TEXT;
        break;
      case OP_CONTINUATION:
        if (!this.#inMessage) {
          this.#fail(CLOSE_PROTOCOL_ERROR, "a continuation with no message");
          return;
        }
        break;
      default:
        this.#fail(CLOSE_PROTOCOL_ERROR, `unknown opcode ${opcode}`);
        return;
    }
    if (fin && !this.#inMessage) {
      this.#deliver(payload);
      return;
    }
    this.#inMessage = true;
    const needed = this.#fragmentBytes + payload.length;
    if (needed > this.#message.length) {
      // Bounded: the length check before the payload was read.
      const grown = new Uint8Array(
        Math.min(
          this.#maxMessageBytes,
          Math.max(needed, this.#message.length * 2, 256),
        ),
      );
      grown.set(this.#message.subarray(0, this.#fragmentBytes));
      this.#message = grown;
    }
    this.#message.set(payload, this.#fragmentBytes);
    this.#fragmentBytes = needed;
    if (!fin) return;
    const message = this.#message.slice(0, this.#fragmentBytes);
    this.#message = EMPTY;
    this.#fragmentBytes = 0;
    this.#inMessage = false;
    this.#deliver(message);
  }

  #deliver(message: Uint8Array): void {
    if (this.#fragmentText && !isUtf8(message)) {
      this.#fail(CLOSE_INVALID_DATA, "text message is not valid UTF-8");
      return;
    }
    this.#handler.message(message, this.#fragmentText);
  }

  #fail(code: number, reason: string): number {
    if (!this.#failed) {
      this.#failed = true;
      this.#buffer = EMPTY;
      this.#buffered = 0;
      this.#message = EMPTY;
      this.#handler.fail(code, reason);
    }
    return 0;
  }
}

/** The header of an unmasked server frame of `length` payload bytes. */
function headerOf(opcode: number, length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x80 | opcode, length);
  if (length < 65536) {
    return Uint8Array.of(0x80 | opcode, 126, length >> 8, length & 0xff);
  }
  const header = new Uint8Array(10);
  header[0] = 0x80 | opcode;
  header[1] = 127;
  new DataView(header.buffer).setUint32(6, length);
  return header;
}

/** Bytes of a server frame's header for a payload of `length`. */
export function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/**
 * Encodes lines (each ending in CR LF, as the room relays them) as one
 * server frame each: text when the line is valid UTF-8, binary otherwise.
 */
export function encodeLineFrames(bytes: Uint8Array): Uint8Array {
  // First pass: where the lines are, and the size of the whole.
  const ends: number[] = [];
  let size = 0;
  let start = 0;
  while (start < bytes.length) {
    let lf = bytes.indexOf(0x0a, start);
    if (lf === -1) lf = bytes.length; // never: batches end with CR LF
    const end = lf > start && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
    ends.push(start, end);
    size += headerBytes(end - start) + (end - start);
    start = lf + 1;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < ends.length; i += 2) {
    const line = bytes.subarray(ends[i], ends[i + 1]);
    const header = headerOf(isUtf8(line) ? OP_TEXT : OP_BINARY, line.length);
    out.set(header, at);
    at += header.length;
    out.set(line, at);
    at += line.length;
  }
  return out;
}

/** A server control frame: close (with code and reason), ping or pong. */
export function controlFrame(
  opcode: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = headerOf(opcode, payload.length);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

/** A close frame's payload: the code, then the reason (≤ 123 bytes). */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, 123);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/**
 * A client's frame: `payload` as one final frame of `opcode`, masked with
 * a fresh random key (RFC 6455 §5.3).
 *
 * @example
 * ```ts
 * import { clientFrame, OP_TEXT } from "./websocket_frames.ts";
 * const frame = clientFrame(OP_TEXT, new TextEncoder().encode("hi"));
 * console.log(frame.length, frame[1] & 0x80); // 8 128
 * ```
 */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const header = headerOf(opcode, payload.length);
  header[1] |= 0x80;
  const out = new Uint8Array(header.length + 4 + payload.length);
  out.set(header);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, header.length);
  const at = header.length + 4;
  for (let i = 0; i < payload.length; i++) {
    out[at + i] = payload[i] ^ mask[i & 3];
  }
  return out;
}

/**
 * The `Sec-WebSocket-Accept` a server answers a client's key with
 * (RFC 6455 §4.2.2).
 *
 * @example
 * ```ts
 * import { acceptKey } from "./websocket_frames.ts";
 * console.log(await acceptKey("dGhlIHNhbXBsZSBub25jZQ==")); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
