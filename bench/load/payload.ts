/**
 * The load generator's line payload: a compact ASCII header that names the
 * run, the sender, the sequence number and the intended and actual send
 * times, padded to the requested line size.
 *
 * ```
 * k3f9:12:4711:1250000:1250042:.................................
 * ^tag ^sender ^seq ^intended µs ^actual µs       ^padding to --size
 * ```
 *
 * With `--payload-file` the padding is replaced by the file's lines,
 * one per payload in turn (line _k_ of a sender carries the file's line
 * _k_ mod _n_), so sizes and content are the file's; every receiver knows
 * which body each sequence number carries and checks its length and ends.
 *
 * Times are whole microseconds since the run's own clock origin, so a
 * receiver in the same process subtracts them from its own clock. The tag
 * tells this run's lines from anything else a server might send (another
 * run's lines, a banner): those are counted as foreign, not decoded.
 *
 * Encoding and decoding work on bytes, with no strings and no allocation,
 * because the receive path handles millions of lines per second.
 *
 * @module
 */

const COLON = 0x3a;
const PAD = 0x2e; // "."
const LF = 0x0a;
const ZERO = 0x30;

/**
 * Length of the run tag at the start of every payload.
 *
 * @example
 * ```ts
 * import { randomTag, TAG_LENGTH } from "./payload.ts";
 * console.log(randomTag().length === TAG_LENGTH); // true
 * ```
 */
export const TAG_LENGTH = 4;

/**
 * Longest header {@linkcode PayloadEncoder} writes: tag, a sender id of up
 * to 6 digits and three numbers of up to 16 digits, each followed by `:`.
 *
 * @example
 * ```ts
 * import { MAX_HEADER_BYTES } from "./payload.ts";
 * console.log(MAX_HEADER_BYTES); // 63
 * ```
 */
export const MAX_HEADER_BYTES = TAG_LENGTH + 1 + 6 + 1 + 3 * (16 + 1);

/**
 * Makes a random run tag of {@linkcode TAG_LENGTH} lowercase letters and
 * digits.
 *
 * @example
 * ```ts
 * import { randomTag } from "./payload.ts";
 * console.log(randomTag().length); // 4
 * ```
 */
export function randomTag(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let tag = "";
  for (let i = 0; i < TAG_LENGTH; i++) {
    tag += alphabet[Math.floor(Math.random() * alphabet.length)];
  }
  return tag;
}

function tagBytes(tag: string): Uint8Array {
  if (!new RegExp(`^[a-z0-9]{${TAG_LENGTH}}$`).test(tag)) {
    throw new RangeError(
      `a run tag is ${TAG_LENGTH} lowercase letters or digits, got "${tag}"`,
    );
  }
  return new TextEncoder().encode(tag);
}

/**
 * The bodies of `--payload-file`: the file's lines (split at LF, a CR
 * before it dropped, the empty piece after a final LF ignored). Throws a
 * `RangeError` for a file with no line.
 *
 * @example
 * ```ts
 * import { payloadBodies } from "./payload.ts";
 * const bodies = payloadBodies(new TextEncoder().encode("hello\r\nwörld\n"));
 * console.log(bodies.length, bodies[1].length); // 2 6
 * ```
 */
export function payloadBodies(file: Uint8Array): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  let start = 0;
  while (start < file.length) {
    let end = file.indexOf(LF, start);
    if (end === -1) end = file.length;
    let stop = end;
    if (stop > start && file[stop - 1] === 0x0d) stop--;
    bodies.push(file.slice(start, stop));
    start = end + 1;
  }
  if (bodies.length === 0) {
    throw new RangeError("the payload file has no line");
  }
  return bodies;
}

/** The fields one payload carries. */
export interface PayloadFields {
  /** Index of the sending client within the run. */
  sender: number;
  /** The sender's sequence number, from 0, one per line. */
  seq: number;
  /** When the line was due, in µs of the run's clock. */
  intendedUs: number;
  /** When it was actually handed to the socket, in µs of the run's clock. */
  actualUs: number;
}

/** Writes `n` (a non-negative safe integer) in decimal; returns the end. */
function writeDecimal(target: Uint8Array, offset: number, n: number): number {
  if (n < 10) {
    target[offset] = ZERO + n;
    return offset + 1;
  }
  let digits = 0;
  for (let rest = n; rest >= 1; rest = Math.floor(rest / 10)) digits++;
  let end = offset + digits;
  let rest = n;
  while (end > offset) {
    const next = Math.floor(rest / 10);
    target[--end] = ZERO + (rest - next * 10);
    rest = next;
  }
  return offset + digits;
}

/**
 * Builds payload lines of one run, each at least `size` bytes long (longer
 * only when the header alone is longer), followed by LF.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { PayloadEncoder } from "./payload.ts";
 *
 * const encoder = new PayloadEncoder("abcd", 32);
 * const line = encoder.encode({ sender: 1, seq: 2, intendedUs: 30, actualUs: 45 });
 * deepEqual(new TextDecoder().decode(line), "abcd:1:2:30:45:.................\n");
 * ```
 */
export class PayloadEncoder {
  /** The run tag. */
  readonly tag: string;
  /** Requested line length in bytes, terminator excluded. */
  readonly size: number;
  readonly #tag: Uint8Array;
  readonly #bodies: readonly Uint8Array[] | undefined;
  readonly #maxLineBytes: number;

  /**
   * Creates an encoder for run `tag` and lines of `size` bytes, or, with
   * `bodies` (see {@linkcode payloadBodies}), lines of a header and body
   * `seq % bodies.length` (then `size` is not used).
   */
  constructor(tag: string, size: number, bodies?: readonly Uint8Array[]) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    }
    if (bodies !== undefined && bodies.length === 0) {
      throw new RangeError("bodies: at least one");
    }
    this.#tag = tagBytes(tag);
    this.tag = tag;
    this.size = size;
    this.#bodies = bodies;
    this.#maxLineBytes = bodies
      ? MAX_HEADER_BYTES + Math.max(...bodies.map((b) => b.length))
      : Math.max(size, MAX_HEADER_BYTES);
  }

  /**
   * Bytes needed for `count` lines, terminators included, whatever their
   * numbers: an upper bound to size a batch buffer.
   */
  maxBatchBytes(count: number): number {
    return count * (this.#maxLineBytes + 1);
  }

  /**
   * Writes one line and its LF into `target` at `offset`; returns the
   * offset after the LF. `target` must have room for
   * {@linkcode PayloadEncoder.maxBatchBytes}`(1)` bytes.
   */
  encodeInto(
    target: Uint8Array,
    offset: number,
    sender: number,
    seq: number,
    intendedUs: number,
    actualUs: number,
  ): number {
    const start = offset;
    target.set(this.#tag, offset);
    offset += TAG_LENGTH;
    target[offset++] = COLON;
    offset = writeDecimal(target, offset, sender);
    target[offset++] = COLON;
    offset = writeDecimal(target, offset, seq);
    target[offset++] = COLON;
    offset = writeDecimal(target, offset, intendedUs);
    target[offset++] = COLON;
    offset = writeDecimal(target, offset, actualUs);
    target[offset++] = COLON;
    const bodies = this.#bodies;
    if (bodies !== undefined) {
      const body = bodies[seq % bodies.length];
      target.set(body, offset);
      offset += body.length;
      target[offset++] = LF;
      return offset;
    }
    const end = start + this.size;
    if (offset < end) {
      target.fill(PAD, offset, end);
      offset = end;
    }
    target[offset++] = LF;
    return offset;
  }

  /** Encodes one line (with its LF) into a new buffer. */
  encode(fields: PayloadFields): Uint8Array {
    const out = new Uint8Array(this.maxBatchBytes(1));
    const end = this.encodeInto(
      out,
      0,
      fields.sender,
      fields.seq,
      fields.intendedUs,
      fields.actualUs,
    );
    return out.subarray(0, end);
  }
}

/** What {@linkcode PayloadDecoder.decode} found in a line. */
export type DecodeResult = "ok" | "foreign" | "malformed";

/**
 * Reads payload lines of one run. After a `decode` that returns `"ok"`,
 * the public fields hold that line's values (the object is reused so the
 * receive path allocates nothing).
 *
 * A line without this run's tag is `"foreign"`; one with the tag but a
 * broken header (cut, merged with another line, altered) is `"malformed"`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { PayloadDecoder, PayloadEncoder } from "./payload.ts";
 *
 * const line = new PayloadEncoder("abcd", 40).encode({
 *   sender: 7, seq: 99, intendedUs: 1000, actualUs: 1010,
 * });
 * const decoder = new PayloadDecoder("abcd");
 * deepEqual(decoder.decode(line.subarray(0, line.length - 1)), "ok");
 * deepEqual([decoder.sender, decoder.seq, decoder.intendedUs], [7, 99, 1000]);
 * ```
 */
export class PayloadDecoder implements PayloadFields {
  /** Sender of the last line decoded. */
  sender = 0;
  /** Sequence number of the last line decoded. */
  seq = 0;
  /** Intended send time (µs) of the last line decoded. */
  intendedUs = 0;
  /** Actual send time (µs) of the last line decoded. */
  actualUs = 0;
  readonly #tag: Uint8Array;
  readonly #bodies: readonly Uint8Array[] | undefined;

  /**
   * Creates a decoder for run `tag`; with `bodies`, for lines carrying
   * them (see {@linkcode PayloadEncoder}).
   */
  constructor(tag: string, bodies?: readonly Uint8Array[]) {
    this.#tag = tagBytes(tag);
    this.#bodies = bodies?.length ? bodies : undefined;
  }

  /**
   * Decodes `line` (terminator excluded). With `size` (the requested line
   * size, up to which the padding runs) it also checks the length and the
   * padding's ends, so a line cut short or merged with another is
   * malformed, not silently accepted. A decoder made with bodies checks
   * the body's length and ends instead, whatever `size`.
   */
  decode(line: Uint8Array, size?: number): DecodeResult {
    return this.decodeSpan(line, 0, line.length, size);
  }

  /**
   * {@linkcode PayloadDecoder.decode} for the line `bytes[start, end)`,
   * as `LineSplitter.pushSpans` hands lines out.
   */
  decodeSpan(
    bytes: Uint8Array,
    start: number,
    end: number,
    size?: number,
  ): DecodeResult {
    const tag = this.#tag;
    const length = end - start;
    if (length <= TAG_LENGTH) return "foreign";
    for (let i = 0; i < TAG_LENGTH; i++) {
      if (bytes[start + i] !== tag[i]) return "foreign";
    }
    if (bytes[start + TAG_LENGTH] !== COLON) return "foreign";
    let offset = start + TAG_LENGTH + 1;
    for (let field = 0; field < 4; field++) {
      let n = 0;
      const first = offset;
      let byte: number;
      while (offset < end && (byte = bytes[offset]) !== COLON) {
        const digit = byte - ZERO;
        if (digit < 0 || digit > 9) return "malformed";
        n = n * 10 + digit;
        offset++;
      }
      if (offset === first || offset === end || offset - first > 16) {
        return "malformed";
      }
      offset++; // the colon
      if (field === 0) this.sender = n;
      else if (field === 1) this.seq = n;
      else if (field === 2) this.intendedUs = n;
      else this.actualUs = n;
    }
    const bodies = this.#bodies;
    if (bodies !== undefined) {
      // The body this sequence number carries: its length and its ends.
      const body = bodies[this.seq % bodies.length];
      const n = body.length;
      if (end - offset !== n) return "malformed";
      if (
        n > 0 && (bytes[offset] !== body[0] || bytes[end - 1] !== body[n - 1])
      ) {
        return "malformed";
      }
      return "ok";
    }
    if (size !== undefined) {
      // Every line of a run has the same length, so a line cut short or
      // merged with another shows in its length; the padding's ends are
      // checked too (a full scan would cost more than the rest of decoding).
      const header = offset - start;
      if (length !== Math.max(size, header)) return "malformed";
      if (
        offset < end && (bytes[offset] !== PAD || bytes[end - 1] !== PAD)
      ) {
        return "malformed";
      }
    }
    return "ok";
  }
}
