/**
 * Synchronising through the server, never with sleeps: registration
 * barriers (a new client's join line reaches every earlier client, an ack
 * reaches the new one), ticks (a line round the server's loop between the
 * pieces of a segmented write) and sentinels (a later line of the same
 * sender: whoever reads up to it has everything sent before it).
 *
 * @module
 */

import { ReceivedLine } from "../client/chat_client.ts";
import { bytesEqual, endsWith, toBytes } from "./bytes.ts";
import { contentOf, describeLineMismatch } from "./compare.ts";
import { controlLine, sentinelLine } from "./control_lines.ts";
import { CaseAbort, type Evidence, type FindingRecorder } from "./findings.ts";
import type { PeerWriter } from "./line_writer.ts";
import { type Collected, Peer } from "./peer.ts";
import { type CaseSettings, scaledTimeout, TIMEOUTS } from "./settings.ts";

/** With several targets, how often a join line is repeated until seen. */
const REPEAT_JOIN_MS = 50;

/**
 * Options for {@linkcode RoomSync.expectLines}.
 *
 * @example
 * ```ts
 * import type { ExpectLinesOptions } from "./sync.ts";
 * const options: ExpectLinesOptions = { clause: "§2.8", what: "the empty lines" };
 * console.log(options.what);
 * ```
 */
export interface ExpectLinesOptions {
  /** The clause a mismatch breaks, when not the case's own. */
  clause?: string;
  /** What the lines are, for the message when the sentinel never comes. */
  what?: string;
  /**
   * How long to wait for the sentinel.
   *
   * @default {the line timeout, scaled}
   */
  timeoutMs?: number;
}

/**
 * Says why a collect ended without its match.
 *
 * @example
 * ```ts
 * import { describeEnd } from "./sync.ts";
 * console.log(describeEnd({ lines: [], end: "eof" }, 2000)); // "the server closed the connection"
 * ```
 */
export function describeEnd(collected: Collected, timeoutMs: number): string {
  switch (collected.end) {
    case "timeout":
      return `nothing matching arrived within ${timeoutMs} ms` +
        (collected.lines.length > 0
          ? ` (${collected.lines.length} other lines did)`
          : "");
    case "eof":
      return "the server closed the connection";
    case "reset":
      return `the connection broke (${collected.error})`;
    default:
      return "it arrived";
  }
}

/**
 * The synchronisation of one attempt of a case: who has joined the room,
 * and the numbering of its ticks, acks and sentinels. A barrier that does
 * not complete records a finding and aborts the case.
 *
 * @example
 * ```ts ignore
 * const sync = new RoomSync(settings, findings);
 * await sync.join(a);
 * await sync.join(b); // A has read B's join line; B has read A's ack
 * await a.send("hello");
 * await sync.expectLines(b, ["hello"], await sync.sentinel(a));
 * ```
 */
export class RoomSync {
  readonly #settings: CaseSettings;
  readonly #findings: FindingRecorder;
  readonly #joined: PeerWriter[] = [];
  #sentinels = 0;
  #ticks = 0;

  /** Synchronises for `settings`, recording broken barriers in `findings`. */
  constructor(settings: CaseSettings, findings: FindingRecorder) {
    this.#settings = settings;
    this.#findings = findings;
  }

  #timeout(baseMs: number): number {
    return scaledTimeout(this.#settings, baseMs);
  }

  /** The joined clients that can still read. */
  #readers(): Peer[] {
    return this.#joined.filter((p): p is Peer =>
      p instanceof Peer && !p.client.closed && p.ended === undefined
    );
  }

  /**
   * Registration barrier: `peer` sends a join line and every client
   * joined before it reads until that line arrives. When it has, the
   * server has registered `peer` (it read its line) and relays to every
   * earlier client. The first client is proven by the second one's join.
   * Lines other than barrier lines met meanwhile go to
   * {@linkcode Peer.unsolicited}.
   */
  async join(peer: PeerWriter): Promise<void> {
    const readers = this.#readers();
    this.#joined.push(peer);
    if (readers.length === 0) return;
    const token = controlLine("join", this.#settings.tag, peer.name);
    await peer.send(token);
    // Across several targets (nodes) an earlier client may not be registered
    // with its own node yet when this line reaches that node: nodes accept
    // independently. Repeat the line until every reader has it; the repeats
    // are control lines, which no case sees.
    const repeat = this.#settings.targets.length > 1
      ? setInterval(
        () => peer.send(token).catch(() => {}),
        this.#timeout(REPEAT_JOIN_MS),
      )
      : undefined;
    try {
      await Promise.all(
        readers.map((reader) => this.#barrier(reader, [token], peer.name)),
      );
    } finally {
      clearInterval(repeat);
    }
    if (peer instanceof Peer) {
      await this.#ack(readers[readers.length - 1], [peer]);
    }
  }

  /**
   * Registers many clients at once: each sends its join line and every
   * client already joined reads until it has all of them.
   */
  async joinMany(peers: readonly PeerWriter[]): Promise<void> {
    const readers = this.#readers();
    if (readers.length === 0) {
      throw new Error("joinMany needs a client joined before");
    }
    const tokens = peers.map((p) =>
      controlLine("join", this.#settings.tag, p.name)
    );
    this.#joined.push(...peers);
    await Promise.all(
      peers.map((peer, i) => peer.send(tokens[i]).catch(() => {})),
    );
    try {
      await Promise.all(
        readers.map((reader) =>
          this.#barrier(reader, tokens, `${peers.length} clients`)
        ),
      );
    } catch (error) {
      // Say whether the server closed some of them (a client limit?).
      const closed = await Promise.all(peers.map(async (peer) => {
        if (!(peer instanceof Peer)) return false;
        const drained = await peer.drainUntilClosed(50);
        return drained.closed !== false;
      }));
      const count = closed.filter(Boolean).length;
      if (count > 0) {
        const first = peers.findIndex((_, i) => closed[i]);
        // It explains the barrier failures recorded before it.
        this.#findings.failFirst(
          `the server closed at least ${count} of the ${peers.length} clients that had just connected ` +
            `(the first: ${
              peers[first].name
            }): it holds fewer clients than the case needs ` +
            "(a client limit? see --clients and --max-clients)",
          { clause: "§4.8", data: { closed: count, connected: peers.length } },
        );
      }
      throw error;
    }
    const joiners = peers.filter((p): p is Peer => p instanceof Peer);
    if (joiners.length > 0) {
      await this.#ack(readers[readers.length - 1], joiners);
    }
  }

  /**
   * The barrier's second leg: `from` sends an ack line and each joiner
   * reads until it, so whatever the server sent a joiner first (banner,
   * notices, history) is in its {@linkcode Peer.unsolicited}, not in what
   * the case judges next.
   */
  async #ack(from: Peer, joiners: readonly Peer[]): Promise<void> {
    const token = controlLine(
      "ack",
      this.#settings.tag,
      from.name,
      ++this.#ticks,
    );
    await from.send(token);
    await Promise.all(
      joiners.map((joiner) =>
        this.#barrier(
          joiner,
          [token],
          `the ack from ${from.name}`,
          joiners.length,
        )
      ),
    );
  }

  /**
   * Reads at `reader` until every token arrived. `linesAhead`: how many
   * other lines may come first (every joiner of a crowd reads every other
   * one's join line before the ack), which the timeout allows for.
   */
  async #barrier(
    reader: Peer,
    tokens: Uint8Array[],
    who: string,
    linesAhead = 0,
  ): Promise<void> {
    const waiting = new Set(tokens);
    const garbled: Uint8Array[] = [];
    const timeoutMs = this.#timeout(
      TIMEOUTS.line + Math.max(tokens.length * 5, linesAhead * 10),
    );
    const got = await reader.collectUntil((bytes) => {
      for (const token of waiting) {
        if (endsWith(bytes, token)) {
          waiting.delete(token);
          // Bytes before the token (a prompt, a merged fragment) are kept.
          if (bytes.length !== token.length) garbled.push(bytes);
          break;
        }
      }
      return waiting.size === 0;
    }, { timeoutMs });
    reader.unsolicited.push(...got.lines);
    for (const bytes of garbled) {
      reader.unsolicited.push(new ReceivedLine(bytes, true));
    }
    if (got.end !== "found") {
      this.#findings.fail(
        `registration barrier: ${
          who.startsWith("the ack") ? who : `the join line of ${who}`
        } did not reach ` +
          `${reader.name}: ${describeEnd(got, timeoutMs)}`,
        {
          clause: "§2.1",
          data: { missingJoinLines: waiting.size },
          received: { [reader.name]: got.lines },
        },
      );
      throw new CaseAbort();
    }
  }

  /**
   * Makes the server go round its loop: `sender` sends a tick line and
   * `receiver` reads until it arrives (a line ending with it). Used between
   * the pieces of a segmented write so that the server reads them
   * separately; lines met meanwhile go to {@linkcode Peer.stray}.
   */
  async tick(sender: PeerWriter, receiver: Peer): Promise<void> {
    const token = controlLine("tick", this.#settings.tag, ++this.#ticks);
    await sender.send(token);
    const timeoutMs = this.#timeout(TIMEOUTS.line);
    const got = await receiver.collectUntil(token, { timeoutMs });
    receiver.stray.push(...got.lines);
    if (got.end !== "found") {
      this.#findings.fail(
        `tick from ${sender.name} did not reach ${receiver.name}: ${
          describeEnd(got, timeoutMs)
        }`,
        { clause: "§2.1", received: { [receiver.name]: got.lines } },
      );
      throw new CaseAbort();
    }
  }

  /**
   * Sends a sentinel line from `from` and returns its bytes. A sentinel
   * is content: whoever reads until it has, causally, every line `from`
   * completed before it (§2.6).
   */
  async sentinel(from: PeerWriter): Promise<Uint8Array> {
    const token = sentinelLine(
      this.#settings.tag,
      from.name,
      ++this.#sentinels,
    );
    await from.send(token);
    return token;
  }

  /**
   * Reads on `receiver` until `sentinel` and checks that exactly
   * `expected` arrived before it, byte for byte. Records a finding (with
   * evidence) and returns false if not.
   */
  async expectLines(
    receiver: Peer,
    expected: readonly (string | Uint8Array)[],
    sentinel: Uint8Array,
    options: ExpectLinesOptions = {},
  ): Promise<boolean> {
    const want = expected.map(toBytes);
    const timeoutMs = options.timeoutMs ?? this.#timeout(TIMEOUTS.line);
    const got = await receiver.collectUntil(sentinel, { timeoutMs });
    const lfOutput = [...got.lines, ...(got.found ? [got.found] : [])]
      .some((line) => !line.crlf);
    const lines = contentOf(got.lines, lfOutput);
    const evidence: Evidence = {
      clause: options.clause,
      expected: { [receiver.name]: want },
      received: { [receiver.name]: lines },
    };
    if (got.end !== "found") {
      this.#findings.fail(
        `${receiver.name} never got the sentinel that follows ${
          options.what ?? "the lines"
        }: ${describeEnd(got, timeoutMs)}`,
        evidence,
      );
      return false;
    }
    const mismatch = describeLineMismatch(receiver.name, want, lines);
    if (mismatch !== null) {
      this.#findings.fail(mismatch, evidence);
      return false;
    }
    return true;
  }

  /**
   * Reads on `receiver` until every one of `sentinels` arrived (in any
   * order), the connection ends, or `timeoutMs` passes. Returns the other
   * lines and the sentinels still missing.
   */
  async collectUntilAll(
    receiver: Peer,
    sentinels: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<Collected & { missing: Uint8Array[] }> {
    const waiting = new Set(sentinels);
    let last: Uint8Array | undefined;
    const got = await receiver.collectUntil((bytes) => {
      for (const token of waiting) {
        if (endsWith(bytes, token)) {
          waiting.delete(token);
          last = bytes;
          break;
        }
      }
      return waiting.size === 0;
    }, { timeoutMs });
    // Sentinel lines met before the last stay out; one with extra bytes
    // before it stays in, so those bytes are judged.
    const lines = got.lines.filter((line) =>
      !sentinels.some((token) => bytesEqual(line.bytes, token))
    );
    if (
      got.end === "found" && last &&
      !sentinels.some((t) => bytesEqual(last!, t))
    ) {
      lines.push(new ReceivedLine(last, true));
    }
    return { ...got, lines, missing: [...waiting] };
  }
}
