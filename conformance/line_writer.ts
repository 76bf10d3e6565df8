/**
 * The one path every client of the harness sends through: a line is its
 * bytes and the run's line ending (LF, or CR LF with `--send-eol crlf`),
 * several lines are one write, and every write is recorded in the case's
 * wire trace before it goes out. {@linkcode Peer} and
 * {@linkcode RawPeer} differ only in how the bytes then reach the socket.
 *
 * @module
 */

import { joinLines, toBytes } from "./bytes.ts";
import type { TraceRecorder } from "./trace.ts";

/**
 * A client the harness writes to: all a registration barrier, a tick or a
 * sentinel needs of a sender.
 *
 * @example
 * ```ts
 * import type { PeerWriter } from "./line_writer.ts";
 * const sent: string[] = [];
 * const writer: PeerWriter = {
 *   name: "A",
 *   send: async (line) => void sent.push(String(line)),
 *   write: async (bytes) => void sent.push(String(bytes)),
 *   close: () => {},
 * };
 * await writer.send("hi");
 * console.log(sent); // [ "hi" ]
 * ```
 */
export interface PeerWriter {
  /** The client's name in the case. */
  readonly name: string;
  /** Sends `line` followed by the run's line ending. */
  send(line: string | Uint8Array): Promise<void>;
  /** Writes raw bytes. */
  write(bytes: string | Uint8Array): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/**
 * The sending half both peer classes share: {@linkcode send} and
 * {@linkcode sendMany} frame lines, {@linkcode write} traces the bytes and
 * hands them to the subclass's {@linkcode transmit}.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./line_writer.ts";
 * import { TraceRecorder } from "./trace.ts";
 *
 * class Memory extends LineWriter {
 *   readonly chunks: Uint8Array[] = [];
 *   protected transmit(data: Uint8Array): Promise<void> {
 *     this.chunks.push(data);
 *     return Promise.resolve();
 *   }
 *   close(): void {}
 * }
 * const trace = new TraceRecorder();
 * const memory = new Memory("A", trace);
 * await memory.sendMany(["a", "b"]);
 * console.log(memory.chunks.length, trace.events()[0].data); // 1 "a\\nb\\n"
 * ```
 */
export abstract class LineWriter implements PeerWriter {
  /** The client's name in the case. */
  readonly name: string;
  /** The case's wire trace. */
  protected readonly trace: TraceRecorder;
  /** What {@linkcode send} ends a line with: `"\n"` or `"\r\n"`. */
  eol: string = "\n";

  /** Names the client and the trace its writes go to. */
  constructor(name: string, trace: TraceRecorder) {
    this.name = name;
    this.trace = trace;
  }

  /** Sends `line` followed by the line ending ({@linkcode eol}), as one write. */
  send(line: string | Uint8Array): Promise<void> {
    return this.write(joinLines([line], this.eol));
  }

  /** Sends several lines in one write, each followed by {@linkcode eol}. */
  sendMany(lines: readonly (string | Uint8Array)[]): Promise<void> {
    return this.write(joinLines(lines, this.eol));
  }

  /**
   * Writes raw bytes as one write: traced as `send` first, then handed to
   * {@linkcode transmit}; rejects with the socket's error.
   */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = toBytes(data);
    this.trace.record(this.name, "send", bytes);
    await this.transmit(bytes);
  }

  /** Puts traced bytes on the wire. */
  protected abstract transmit(data: Uint8Array): Promise<void>;

  /** Closes the connection. */
  abstract close(): void;
}
