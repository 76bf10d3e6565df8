/**
 * The bus message: how one node's line batches travel to the other nodes
 * through one Redis PUBLISH. Binary, compact, and independent of Redis.
 *
 * ## Format (version 2)
 *
 * All integers are big-endian. A message is a 20-byte header followed by
 * one or more entries, until the end of the message:
 *
 * ```text
 * header   0  u8      version, 2
 *          1  u8      flags, 0 (reserved; a reader rejects other values)
 *          2  u16     reserved, 0
 *          4  8 bytes node id: random per node process
 *         12  u32     sequence number of this message from this node
 *                     (0, 1, 2, …, wrapping at 2^32)
 *         16  u32     line mark: how many lines this node's clients had
 *                     completed (published or not), wrapping at 2^32, up
 *                     to and including the last line of this message
 * entry    0  f64     completedAt: when the sender's node relayed the
 *                     batch, ms since the Unix epoch (its own clock)
 *          8  u64     sender id: the client's id on its node
 *         16  u32     line count, at least 1
 *         20  u32     byte length n of the batch
 *         24  n bytes the batch exactly as relayed on its node: whole
 *                     lines, each ending in CR LF
 * ```
 *
 * The line mark lets a receiver count the lines of a node it never got,
 * for whatever reason (not published, lost by Redis, dropped as late): a
 * message's mark less the previous message's mark, less its own lines.
 * Version 1 (the same without the line mark, a 16-byte header) is still
 * read, with no line mark.
 *
 * A batch is the lines one client completed in one read, so an entry is
 * never a part of a line, and lines of different senders never mix
 * (PROTOCOL.md §2.7). Bytes are carried as they are (§1.3): no encoding.
 *
 * @module
 */

/** The version written in every message. */
export const MESSAGE_VERSION = 2;
/** Bytes of the message header. */
export const HEADER_BYTES = 20;
/** Bytes of the header of a version-1 message, which had no line mark. */
const V1_HEADER_BYTES = 16;
/** Bytes of each entry's header, before its batch. */
export const ENTRY_HEADER_BYTES = 24;
/** Bytes of a node id. */
export const NODE_ID_BYTES = 8;

const TWO_32 = 2 ** 32;

/** One batch of lines from one sender, as carried in a message. */
export interface BusEntry {
  /** When the sender's node relayed it (ms since the epoch). */
  completedAt: number;
  /** The sender's client id on its node (a safe integer). */
  senderId: number;
  /** How many lines `batch` holds. */
  lineCount: number;
  /** Whole lines, each ending in CR LF. */
  batch: Uint8Array;
}

/** A decoded message: who sent it, its number, and its entries. */
export interface BusMessage {
  /** The publishing node's id. */
  nodeId: Uint8Array;
  /** The message's sequence number from that node. */
  sequence: number;
  /**
   * The node's line count up to this message's last line (mod 2^32);
   * `undefined` in a version-1 message.
   */
  lineMark: number | undefined;
  /** The batches, in the order the node relayed them. */
  entries: BusEntry[];
}

/** Raised by {@linkcode decodeMessage} for bytes that are not a message. */
export class MalformedMessageError extends Error {
  /** Creates the error with what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedMessageError";
  }
}

/**
 * Makes a random node id.
 *
 * @example
 * ```ts
 * import { newNodeId, nodeIdHex } from "./message.ts";
 * console.log(nodeIdHex(newNodeId()).length); // 16
 * ```
 */
export function newNodeId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NODE_ID_BYTES));
}

/**
 * A node id as 16 hex digits, for logs and maps.
 *
 * @example
 * ```ts
 * import { nodeIdHex } from "./message.ts";
 * console.log(nodeIdHex(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 255]))); // "00010203040506ff"
 * ```
 */
export function nodeIdHex(nodeId: Uint8Array): string {
  let hex = "";
  for (const byte of nodeId) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * The size of the entry that would carry `batch`.
 *
 * @example
 * ```ts
 * import { entrySize } from "./message.ts";
 * console.log(entrySize(new Uint8Array(10))); // 34
 * ```
 */
export function entrySize(batch: Uint8Array): number {
  return ENTRY_HEADER_BYTES + batch.length;
}

/**
 * Encodes a message holding `entries` into one buffer (one allocation,
 * each batch copied once); `lineMark` is the node's line count up to the
 * last line of `entries` (see the format).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { decodeMessage, encodeMessage, newNodeId } from "./message.ts";
 *
 * const nodeId = newNodeId();
 * const batch = new Uint8Array([0x00, 0xff, 0x0d, 0x0d, 0x0a]);
 * const bytes = encodeMessage(nodeId, 7, [
 *   { completedAt: 1, senderId: 42, lineCount: 1, batch },
 * ], 31);
 * const message = decodeMessage(bytes);
 * deepEqual(message.sequence, 7);
 * deepEqual(message.lineMark, 31);
 * deepEqual(message.entries[0].batch, batch);
 * ```
 */
export function encodeMessage(
  nodeId: Uint8Array,
  sequence: number,
  entries: readonly BusEntry[],
  lineMark = 0,
): Uint8Array {
  if (nodeId.length !== NODE_ID_BYTES) {
    throw new RangeError(`a node id is ${NODE_ID_BYTES} bytes`);
  }
  let size = HEADER_BYTES;
  for (const entry of entries) size += entrySize(entry.batch);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = MESSAGE_VERSION;
  out.set(nodeId, 4);
  view.setUint32(12, sequence >>> 0);
  view.setUint32(16, lineMark >>> 0);
  let offset = HEADER_BYTES;
  for (const { completedAt, senderId, lineCount, batch } of entries) {
    view.setFloat64(offset, completedAt);
    view.setUint32(offset + 8, Math.floor(senderId / TWO_32));
    view.setUint32(offset + 12, senderId >>> 0);
    view.setUint32(offset + 16, lineCount);
    view.setUint32(offset + 20, batch.length);
    out.set(batch, offset + ENTRY_HEADER_BYTES);
    offset += ENTRY_HEADER_BYTES + batch.length;
  }
  return out;
}

/**
 * Decodes a message. Batches are views into `bytes`, not copies. Throws
 * {@linkcode MalformedMessageError} if `bytes` is not a version-2 (or
 * version-1) message with at least one well-formed entry.
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { decodeMessage, MalformedMessageError } from "./message.ts";
 * throws(() => decodeMessage(new Uint8Array(3)), MalformedMessageError);
 * ```
 */
export function decodeMessage(bytes: Uint8Array): BusMessage {
  const version = bytes[0];
  if ((version !== MESSAGE_VERSION && version !== 1) || bytes[1] !== 0) {
    throw new MalformedMessageError(
      `unknown version ${bytes[0]} or flags ${bytes[1]}`,
    );
  }
  const headerBytes = version === 1 ? V1_HEADER_BYTES : HEADER_BYTES;
  if (bytes.length < headerBytes + ENTRY_HEADER_BYTES) {
    throw new MalformedMessageError(`too short (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const nodeId = bytes.subarray(4, 4 + NODE_ID_BYTES);
  const sequence = view.getUint32(12);
  const lineMark = version === 1 ? undefined : view.getUint32(16);
  const entries: BusEntry[] = [];
  let offset = headerBytes;
  while (offset < bytes.length) {
    if (bytes.length - offset < ENTRY_HEADER_BYTES) {
      throw new MalformedMessageError(`truncated entry at byte ${offset}`);
    }
    const completedAt = view.getFloat64(offset);
    const senderId = view.getUint32(offset + 8) * TWO_32 +
      view.getUint32(offset + 12);
    const lineCount = view.getUint32(offset + 16);
    const length = view.getUint32(offset + 20);
    const start = offset + ENTRY_HEADER_BYTES;
    const end = start + length;
    if (end > bytes.length) {
      throw new MalformedMessageError(
        `entry at byte ${offset} claims ${length} bytes, ${
          bytes.length - start
        } left`,
      );
    }
    if (lineCount === 0 || length < 2 * lineCount || bytes[end - 1] !== 0x0a) {
      throw new MalformedMessageError(
        `entry at byte ${offset} is not ${lineCount} whole lines`,
      );
    }
    entries.push({
      completedAt,
      senderId,
      lineCount,
      batch: bytes.subarray(start, end),
    });
    offset = end;
  }
  return { nodeId, sequence, lineMark, entries };
}
