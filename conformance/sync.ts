/**
 * Synchronising through the server, never with sleeps: registration
 * barriers (a new client's join line reaches every earlier client, an ack
 * reaches the new one), ticks (a line round the server's loop between the
 * pieces of a segmented write) and sentinels (a later line of the same
 * sender: whoever reads up to it has everything sent before it).
 *
 * Every wait is scaled by the timeout scale and the server's measured
 * latency, and is followed by a grace period: what arrives in it is
 * reported as late (with how late), and only what is still missing after
 * it is reported as lost. Barrier lines are repeated, with growing gaps,
 * until they arrive: a server that registers a client some time after
 * accepting it (after sending it a banner, say) makes the first one miss,
 * and the barrier says how late registration was instead of failing at
 * random.
 *
 * @module
 */

import { ReceivedLine } from "../client/chat_client.ts";
import { bytesEqual, endsWith, toBytes } from "./bytes.ts";
import { controlLine, sentinelLine } from "./control_lines.ts";
import {
  describeEnd,
  type ExpectLinesOptions,
  judgeExpectedLines,
} from "./judge_lines.ts";
import { CaseAbort, type FindingRecorder } from "./findings.ts";
import type { PeerWriter } from "./line_writer.ts";
import { type Collected, Peer } from "./peer.ts";
import {
  type CaseSettings,
  GRACE_FACTOR,
  scaledTimeout,
  scaledWait,
  TIMEOUTS,
} from "./settings.ts";
import type { TraceRecorder } from "./trace.ts";
import { Repeated } from "./_repeated.ts";

/** With several targets, how often a join line is repeated until seen. */
const REPEAT_JOIN_MS = 50;
/**
 * With one target, the first repeat of a barrier line comes this late (or
 * three of the server's round trips, if that is more)…
 */
const FIRST_REPEAT_MS = 100;
/** …and each later one after twice the gap before it. */
const REPEAT_GROWTH = 2;

/**
 * Something that arrived after its wait, within the grace period.
 *
 * @example
 * ```ts
 * import type { LateArrival } from "./sync.ts";
 * const late: LateArrival = { what: "A's sentinel at B", waitMs: 2000, lateMs: 350 };
 * console.log(late.lateMs);
 * ```
 */
export interface LateArrival {
  /** What was waited for, where. */
  what: string;
  /** The wait it came after. */
  waitMs: number;
  /** How long after the wait ran out it came. */
  lateMs: number;
}

/**
 * A client the server registered later than it accepted it: a barrier
 * line relayed right after it connected missed it, a repeat did not.
 *
 * @example
 * ```ts
 * import type { LateRegistration } from "./sync.ts";
 * const late: LateRegistration = { client: "B", missed: 1, afterMs: 150 };
 * console.log(late.client);
 * ```
 */
export interface LateRegistration {
  /** The client that missed the first barrier line(s). */
  client: string;
  /** How many of the barrier lines sent to it were missed. */
  missed: number;
  /** Time from its connect to the first barrier line it got. */
  afterMs: number;
}

/**
 * The synchronisation of one attempt of a case: who has joined the room,
 * the numbering of its ticks, acks and sentinels, and what arrived late.
 * A barrier that does not complete records a finding and aborts the case.
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
  readonly #trace: TraceRecorder | undefined;
  readonly #joined: PeerWriter[] = [];
  readonly #connectedAt = new Map<string, number>();
  /** Everything that arrived after its wait, within the grace period. */
  readonly late: LateArrival[] = [];
  /** Clients registered later than they were accepted. */
  readonly lateRegistrations: LateRegistration[] = [];
  #sentinels = 0;
  #ticks = 0;

  /**
   * Synchronises for `settings`, recording broken barriers in `findings`
   * and notes in `trace`.
   */
  constructor(
    settings: CaseSettings,
    findings: FindingRecorder,
    trace?: TraceRecorder,
  ) {
    this.#settings = settings;
    this.#findings = findings;
    this.#trace = trace;
  }

  /** A wait for lines: scaled by the timeout scale and the server's latency. */
  wait(baseMs: number): number {
    return scaledWait(this.#settings, baseMs);
  }

  /** The grace period after a wait of `waitMs`. */
  grace(waitMs: number): number {
    return Math.round(waitMs * GRACE_FACTOR);
  }

  /** Notes when a client connected (for how late its registration was). */
  connected(name: string): void {
    this.#connectedAt.set(name, performance.now());
  }

  /** The joined clients that can still read. */
  #readers(): Peer[] {
    return this.#joined.filter((p): p is Peer =>
      p instanceof Peer && !p.client.closed && p.ended === undefined
    );
  }

  /** Repeats of `line` until `done` resolves, gaps growing. */
  #repeat(
    sender: PeerWriter,
    line: Repeated,
    done: Promise<unknown>,
  ): void {
    // Not sooner than a slow server relays: each repeat is one more line
    // it has to deliver, in front of the case's own.
    const several = this.#settings.targets.length > 1;
    let gap = several
      ? scaledTimeout(this.#settings, REPEAT_JOIN_MS)
      : Math.max(FIRST_REPEAT_MS, 3 * (this.#settings.latencyP99Ms ?? 0));
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        if (stopped) return;
        sender.send(line.next()).catch(() => {});
        if (!several) gap *= REPEAT_GROWTH;
        schedule();
      }, gap);
    };
    schedule();
    done.finally(() => {
      stopped = true;
      clearTimeout(timer);
    });
  }

  /**
   * Registration barrier: `peer` sends a join line and every client
   * joined before it reads until that line arrives. When it has, the
   * server has registered `peer` (it read its line) and relays to every
   * earlier client. The first client is proven by the second one's join.
   * Lines other than barrier lines met meanwhile go to
   * {@linkcode Peer.unsolicited}. The join line (and the ack) is repeated
   * until it arrives, so a client the server registers late is waited for,
   * and recorded in {@linkcode lateRegistrations}.
   */
  async join(peer: PeerWriter): Promise<void> {
    const readers = this.#readers();
    this.#joined.push(peer);
    if (readers.length === 0) return;
    const token = new Repeated((k) =>
      k === 1
        ? controlLine("join", this.#settings.tag, peer.name)
        : controlLine("join", this.#settings.tag, peer.name, `r${k}`)
    );
    await peer.send(token.variants[0]);
    const barriers = Promise.all(
      readers.map((reader) => this.#barrier(reader, [token], peer.name)),
    );
    this.#repeat(peer, token, barriers.catch(() => {}));
    const firsts = await barriers;
    // A reader that got only a repeat was not yet registered when the
    // first one was relayed (the join line comes from `peer`, which the
    // server had read: the reader is the one it did not relay to).
    readers.forEach((reader, i) => {
      if (firsts[i][0] > 1) this.#lateRegistration(reader.name, firsts[i][0]);
    });
    if (peer instanceof Peer) {
      await this.#ack(readers[readers.length - 1], [peer]);
    }
  }

  #lateRegistration(client: string, variant: number): void {
    if (this.lateRegistrations.some((l) => l.client === client)) return;
    const at = this.#connectedAt.get(client);
    this.lateRegistrations.push({
      client,
      missed: variant - 1,
      afterMs: at === undefined ? NaN : Math.round(performance.now() - at),
    });
  }

  /**
   * Registers many clients at once: each sends its join line and every
   * client already joined reads until it has all of them. While join lines
   * keep arriving the wait goes on (a server that accepts slowly is late,
   * not lossy); it gives up when none has come for a whole wait.
   */
  async joinMany(peers: readonly PeerWriter[]): Promise<void> {
    const readers = this.#readers();
    if (readers.length === 0) {
      throw new Error("joinMany needs a client joined before");
    }
    const tokens = peers.map((p) =>
      new Repeated((k) =>
        k === 1
          ? controlLine("join", this.#settings.tag, p.name)
          : controlLine("join", this.#settings.tag, p.name, `r${k}`)
      )
    );
    this.#joined.push(...peers);
    await Promise.all(
      peers.map((peer, i) => peer.send(tokens[i].variants[0]).catch(() => {})),
    );
    try {
      await Promise.all(
        readers.map((reader) =>
          this.#barrier(reader, tokens, `${peers.length} clients`, 0, true)
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
   * the case judges next. Repeated until every joiner has one; a joiner
   * that got only a repeat was registered late.
   */
  async #ack(from: Peer, joiners: readonly Peer[]): Promise<void> {
    const n = ++this.#ticks;
    const token = new Repeated((k) =>
      k === 1
        ? controlLine("ack", this.#settings.tag, from.name, n)
        : controlLine("ack", this.#settings.tag, from.name, n, `r${k}`)
    );
    await from.send(token.variants[0]);
    const barriers = Promise.all(
      joiners.map((joiner) =>
        this.#barrier(
          joiner,
          [token],
          `the ack from ${from.name}`,
          joiners.length,
        )
      ),
    );
    this.#repeat(from, token, barriers.catch(() => {}));
    const firsts = await barriers;
    joiners.forEach((joiner, i) => {
      if (firsts[i][0] > 1) this.#lateRegistration(joiner.name, firsts[i][0]);
    });
  }

  /**
   * Reads at `reader` until every token arrived (any variant); returns,
   * per token, which variant came first. `linesAhead`: how many other
   * lines may come first (every joiner of a crowd reads every other one's
   * join line before the ack), which the wait allows for. With
   * `progressive`, each token that arrives restarts the wait.
   */
  async #barrier(
    reader: Peer,
    tokens: readonly Repeated[],
    who: string,
    linesAhead = 0,
    progressive = false,
  ): Promise<number[]> {
    const waiting = new Set(tokens.map((_, i) => i));
    const first = tokens.map(() => 0);
    const garbled: Uint8Array[] = [];
    const waitMs = this.wait(
      TIMEOUTS.line + Math.max(tokens.length * 5, linesAhead * 10),
    );
    const t0 = performance.now();
    const deadline = { at: t0 + waitMs + this.grace(waitMs) };
    const idleMs = this.wait(TIMEOUTS.line);
    const got = await reader.collectUntil(
      (bytes) => {
        for (const i of waiting) {
          const variant = tokens[i].match(bytes);
          if (variant === 0) continue;
          waiting.delete(i);
          first[i] = variant;
          if (progressive) {
            deadline.at = Math.max(deadline.at, performance.now() + idleMs);
          }
          // Bytes before the token (a prompt, a merged fragment) are kept.
          if (bytes.length !== tokens[i].variants[variant - 1].length) {
            garbled.push(bytes);
          }
          break;
        }
        return waiting.size === 0;
      },
      progressive ? { timeoutMs: Infinity, deadline } : {
        timeoutMs: waitMs + this.grace(waitMs),
      },
    );
    reader.unsolicited.push(...got.lines);
    for (const bytes of garbled) {
      reader.unsolicited.push(new ReceivedLine(bytes, true));
    }
    const tookMs = performance.now() - t0;
    if (got.end !== "found") {
      this.#findings.fail(
        `registration barrier: ${
          who.startsWith("the ack") ? who : `the join line of ${who}`
        } did not reach ` +
          `${reader.name}: ${
            describeEnd(got, Math.round(tookMs))
          } (a wait of ${waitMs} ms and its grace)`,
        {
          clause: "§2.1",
          data: { missingJoinLines: waiting.size },
          received: { [reader.name]: got.lines },
        },
      );
      throw new CaseAbort();
    }
    // A crowd's join lines come as the server accepts them: slow accepts
    // are the case's to report, not a late relay.
    if (tookMs > waitMs && !progressive) {
      this.late.push({
        what: `${
          who.startsWith("the ack") ? who : `the join line of ${who}`
        } at ${reader.name}`,
        waitMs,
        lateMs: Math.round(tookMs - waitMs),
      });
    }
    return first;
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
    const got = await this.collect(receiver, token, {
      what: `the tick from ${sender.name} at ${receiver.name}`,
    });
    receiver.stray.push(...got.lines);
    if (got.end !== "found") {
      this.#findings.fail(
        `tick from ${sender.name} did not reach ${receiver.name}: ${
          describeEnd(got, got.waitedMs)
        }`,
        { clause: "§2.1", received: { [receiver.name]: got.lines } },
      );
      throw new CaseAbort();
    }
  }

  /**
   * Reads at `receiver` until `match` arrives (see
   * {@linkcode Peer.collectUntil}): for `timeoutMs` (default: the line
   * wait), then for a grace period. What arrives in the grace period is
   * recorded in {@linkcode late}; `waitedMs` is how long it read in all.
   */
  async collect(
    receiver: Peer,
    match: Uint8Array | ((bytes: Uint8Array) => boolean),
    options: { what: string; timeoutMs?: number; keepControl?: boolean },
  ): Promise<Collected & { waitedMs: number }> {
    const waitMs = options.timeoutMs ?? this.wait(TIMEOUTS.line);
    const t0 = performance.now();
    const first = await receiver.collectUntil(match, {
      timeoutMs: waitMs,
      keepControl: options.keepControl,
    });
    if (first.end !== "timeout") {
      return { ...first, waitedMs: Math.round(performance.now() - t0) };
    }
    const grace = this.grace(waitMs);
    this.#trace?.note(
      `${options.what}: nothing after ${waitMs} ms; reading ${grace} ms more ` +
        "before calling it lost",
    );
    const rest = await receiver.collectUntil(match, {
      timeoutMs: grace,
      keepControl: options.keepControl,
    });
    const waitedMs = Math.round(performance.now() - t0);
    const got = { ...rest, lines: [...first.lines, ...rest.lines], waitedMs };
    if (rest.end === "found") {
      this.late.push({
        what: options.what,
        waitMs,
        lateMs: Math.max(1, waitedMs - waitMs),
      });
    }
    return got;
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
   * evidence) and returns false if not; lines that arrived with bytes
   * added around them are said to be decorated.
   */
  async expectLines(
    receiver: Peer,
    expected: readonly (string | Uint8Array)[],
    sentinel: Uint8Array,
    options: ExpectLinesOptions = {},
  ): Promise<boolean> {
    const want = expected.map(toBytes);
    const got = await this.collect(receiver, sentinel, {
      what: `${options.what ?? "the lines"} at ${receiver.name}`,
      timeoutMs: options.timeoutMs,
    });
    const failure = judgeExpectedLines(receiver.name, want, got, sentinel, {
      throughDialect: this.#settings.dialect !== undefined,
      ...options,
    });
    if (failure === null) return true;
    this.#findings.fail(failure.message, failure.evidence);
    return false;
  }

  /**
   * Reads on `receiver` until every one of `sentinels` arrived (in any
   * order), the connection ends, or `timeoutMs` and its grace pass.
   * Returns the other lines and the sentinels still missing.
   */
  async collectUntilAll(
    receiver: Peer,
    sentinels: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<Collected & { missing: Uint8Array[]; waitedMs: number }> {
    const waiting = new Set(sentinels);
    let last: Uint8Array | undefined;
    const got = await this.collect(receiver, (bytes) => {
      for (const token of waiting) {
        if (endsWith(bytes, token)) {
          waiting.delete(token);
          last = bytes;
          break;
        }
      }
      return waiting.size === 0;
    }, { what: `the sentinels at ${receiver.name}`, timeoutMs });
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

  /**
   * At the end of the attempt: one finding for everything that arrived
   * late (§2.11: not lost, but past its wait), and a note for each client
   * registered late.
   */
  finish(): void {
    if (this.late.length > 0) {
      const worst = this.late.reduce((a, b) => a.lateMs >= b.lateMs ? a : b);
      // Timing: a busy machine can do this too, so the case may be retried.
      this.#trace?.record(
        "harness",
        "timeout",
        `${worst.what} came ${worst.lateMs} ms after its ${worst.waitMs} ms wait`,
      );
      this.#findings.nonStrict(
        `${this.late.length === 1 ? "a wait" : `${this.late.length} waits`} ` +
          `ran out before the lines came, which then arrived late, not lost: ` +
          `${worst.what} came ${worst.lateMs} ms after its ${worst.waitMs} ms wait ` +
          "(the server relays slowly)",
        {
          clause: "§2.11",
          cause: "slow-relay",
          data: {
            lateWaits: this.late.length,
            maxLateMs: worst.lateMs,
            waitMs: worst.waitMs,
          },
        },
      );
    }
    for (const late of this.lateRegistrations) {
      this.#findings.info(
        `${late.client} was registered late: it missed the first ${
          late.missed === 1 ? "barrier line" : `${late.missed} barrier lines`
        } relayed after it connected and got a repeat ${
          Number.isNaN(late.afterMs)
            ? ""
            : `${late.afterMs} ms after connecting `
        }(lines relayed before the server registers a client never reach it, §2.1)`,
        {
          clause: "§2.1",
          cause: "late-registration",
          data: { client: late.client, afterMs: late.afterMs },
        },
      );
    }
  }
}
