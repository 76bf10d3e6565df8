/**
 * {@linkcode DialectView}: one client's view of the server's lines through
 * a dialect. It turns each relayed line into its payload, drops the
 * server's notices, and, when the dialect says the server echoes, drops
 * the client's own lines coming back (by sender once it knows its own,
 * else by content it sent).
 *
 * @module
 */

import { ReceivedLine } from "../../client/chat_client.ts";
import { bytesEqual } from "../bytes.ts";
import type { TraceRecorder } from "../trace.ts";
import { type CompiledDialect, decodeLine } from "./dialect.ts";

/** How many of its own sent lines a client remembers, for echoes. */
const REMEMBERED_LINES = 4096;

/**
 * One client's dialect state: who it is to the server, what it sent, and
 * what it dropped.
 *
 * @example
 * ```ts
 * import { ReceivedLine } from "../../client/chat_client.ts";
 * import { compileDialect } from "./dialect.ts";
 * import { DialectView } from "./dialect_view.ts";
 * import { TraceRecorder } from "../trace.ts";
 *
 * const e = new TextEncoder();
 * const view = new DialectView(compileDialect({ relay: "^(?<sender>\\S+): (?<payload>.*)$", echo: true }), ["me"]);
 * view.sent(e.encode("hi\n"));
 * const trace = new TraceRecorder();
 * console.log(view.receive(new ReceivedLine(e.encode("me: hi"), true), trace, "A")); // null
 * console.log(new TextDecoder().decode(view.receive(new ReceivedLine(e.encode("you: yo"), true), trace, "A")!.bytes)); // "yo"
 * ```
 */
export class DialectView {
  /** The dialect. */
  readonly dialect: CompiledDialect;
  /** Notices dropped. */
  notices = 0;
  /** Own lines dropped as echoes. */
  echoes = 0;
  readonly #selves: Set<string>;
  #self: string | undefined;
  readonly #sent: Uint8Array[] = [];
  #partial: number[] = [];

  /**
   * A view for a client the server may name as one of `selves` (its
   * address, the name its handshake sent).
   */
  constructor(dialect: CompiledDialect, selves: readonly string[] = []) {
    this.dialect = dialect;
    this.#selves = new Set(selves);
  }

  /** Adds a name the server may give this client. */
  addSelf(name: string): void {
    this.#selves.add(name);
  }

  /** Remembers the lines in `data` the client wrote (for its echoes). */
  sent(data: Uint8Array): void {
    if (!this.dialect.declared.echo) return;
    for (const byte of data) {
      if (byte !== 0x0a) {
        if (this.#partial.length <= 1 << 16) this.#partial.push(byte);
        continue;
      }
      let line = this.#partial;
      if (line[line.length - 1] === 0x0d) line = line.slice(0, -1);
      this.#sent.push(new Uint8Array(line));
      if (this.#sent.length > REMEMBERED_LINES) this.#sent.shift();
      this.#partial = [];
    }
  }

  /**
   * What the case sees of `line`: its payload, the line whole (the
   * dialect does not explain it), or null (a notice, an echo: read past).
   */
  receive(
    line: ReceivedLine,
    trace: TraceRecorder,
    name: string,
  ): ReceivedLine | null {
    const decoded = decodeLine(this.dialect, line.bytes);
    if (decoded.kind === "notice") {
      if (this.notices++ === 0) {
        trace.note(`${name}: a notice of the server, ignored (dialect)`);
      }
      return null;
    }
    if (decoded.kind === "raw") return line;
    if (this.dialect.declared.echo && this.#isOwn(decoded)) {
      if (this.echoes++ === 0) {
        trace.note(`${name}: its own line came back, dropped (dialect: echo)`);
      }
      return null;
    }
    return new ReceivedLine(decoded.payload, line.crlf);
  }

  #isOwn(decoded: { payload: Uint8Array; sender?: string }): boolean {
    const sender = decoded.sender;
    if (sender !== undefined && this.#self !== undefined) {
      return sender === this.#self;
    }
    if (sender !== undefined && this.#selves.has(sender)) {
      this.#self = sender;
      return true;
    }
    const at = this.#sent.findIndex((s) => bytesEqual(s, decoded.payload));
    if (at < 0) return false;
    this.#sent.splice(at, 1);
    // A harness line (tagged, unique to this client) names the sender.
    if (
      sender !== undefined && decoded.payload.length > 8 &&
      startsLcc(decoded.payload)
    ) {
      this.#self = sender;
    }
    return true;
  }
}

function startsLcc(bytes: Uint8Array): boolean {
  return bytes[0] === 0x6c && bytes[1] === 0x63 && bytes[2] === 0x63 &&
    bytes[3] === 0x7e;
}
