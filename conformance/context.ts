/**
 * What a case works with: connecting traced clients, registration
 * barriers, ticks and sentinels (synchronisation through the server, never
 * sleeps), scaled timeouts, and recording findings with evidence.
 *
 * @module
 */

import { connect, ReceivedLine } from "../client/chat_client.ts";
import { contentOf, describeMismatch } from "./compare.ts";
import { escapeLines } from "./escape.ts";
import {
  bytesEqual,
  type Collected,
  CONTROL_PREFIX,
  describeError,
  endsWith,
  lineKey,
  Peer,
  RawPeer,
  type WireStats,
  type Writer,
} from "./peer.ts";
import type { ProcessSample, ServerProcess } from "./server_process.ts";
import type { TraceRecorder } from "./trace.ts";
import type {
  CaseDefinition,
  ClientLines,
  DataValue,
  Finding,
  TargetAddress,
} from "./types.ts";

const encoder = new TextEncoder();
/** With several targets, how often a join line is repeated until seen. */
const REPEAT_JOIN_MS = 50;

/** Base timeouts in ms, before `--timeout-scale`. */
export const TIMEOUTS = {
  /** For a line that a correct server relays at once. */
  line: 2000,
  /** For a connection to be accepted. */
  connect: 3000,
  /** For the server to close a connection it should close. */
  close: 3000,
} as const;

/** Thrown by a case to stop after recording a finding. */
export class CaseAbort extends Error {
  /** Creates the error. */
  constructor(message = "case aborted") {
    super(message);
    this.name = "CaseAbort";
  }
}

/** Thrown by {@linkcode CaseContext.skip}. */
export class CaseSkip extends Error {
  /** Creates the error with the reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "CaseSkip";
  }
}

/** The settings a case runs with. */
export interface CaseSettings {
  /** Where clients connect, spread round-robin. */
  targets: TargetAddress[];
  /** The target's declared line limit L. */
  maxLineBytes: number;
  /** The target's declared bound on output held for one client. */
  maxPendingBytes: number;
  /** Clients for the many-clients case. */
  clients: number;
  /** Multiplies every timeout. */
  timeoutScale: number;
  /** The target's declared client limit, if known. */
  maxClients?: number;
  /** The run's unique tag for this case attempt (in sentinels). */
  tag: string;
}

/** Evidence for a finding; lines are escaped when recorded. */
export interface Evidence {
  /** The clause, when not the case's own. */
  clause?: string;
  /** What each client should have received. */
  expected?: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>;
  /** What each client received. */
  received?: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>;
  /** Numbers and facts. */
  data?: Record<string, DataValue>;
}

/** Peak and last samples taken while some work ran. */
export interface SampledRun<T> {
  /** The work's result. */
  result: T;
  /** Highest resident memory seen. */
  peakRssBytes: number;
  /** Most open files seen. */
  peakFds: number;
  /** Samples taken. */
  samples: number;
}

/**
 * The spawned server as a case sees it: measurements and signals. Only
 * present with `--spawn`.
 */
export class ServerMonitor {
  readonly #process: ServerProcess;
  #exitExpected = false;

  /** Wraps the spawned process. */
  constructor(process: ServerProcess) {
    this.#process = process;
  }

  /** Whether the case said the server will exit (shutdown). */
  get exitExpected(): boolean {
    return this.#exitExpected;
  }

  /** One sample of memory and open files; `null` if the server is gone. */
  sample(): Promise<ProcessSample | null> {
    return this.#process.sample();
  }

  /** Samples every `intervalMs` while `work` runs; returns the peaks. */
  async sampleWhile<T>(
    work: Promise<T>,
    intervalMs = 50,
  ): Promise<SampledRun<T>> {
    let done = false;
    let peakRssBytes = 0;
    let peakFds = 0;
    let samples = 0;
    const take = async () => {
      const sample = await this.#process.sample();
      if (sample === null) return;
      samples++;
      peakRssBytes = Math.max(peakRssBytes, sample.rssBytes);
      peakFds = Math.max(peakFds, sample.fds);
    };
    const loop = (async () => {
      while (!done) {
        await take();
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    let result: T;
    try {
      result = await work;
    } finally {
      done = true;
      await loop;
      await take();
    }
    return { result, peakRssBytes, peakFds, samples };
  }

  /**
   * Samples until `accept(sample)` holds or `timeoutMs` passes; returns
   * the last sample (polling /proc is measuring, not synchronising).
   */
  async sampleUntil(
    accept: (sample: ProcessSample) => boolean,
    timeoutMs: number,
  ): Promise<ProcessSample | null> {
    const deadline = performance.now() + timeoutMs;
    let last: ProcessSample | null = null;
    while (true) {
      last = await this.#process.sample();
      if (last === null || accept(last) || performance.now() > deadline) {
        return last;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends a signal to the server (not to the shell that started it). */
  signal(signal: Deno.Signal): Promise<void> {
    return this.#process.signal(signal);
  }

  /** Says that the server exiting during this case is not a crash. */
  expectExit(): void {
    this.#exitExpected = true;
  }

  /** Waits for the server to exit; `null` if it is still running. */
  async waitExit(timeoutMs: number): Promise<Deno.CommandStatus | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#process.exited,
      new Promise<null>((resolve) =>
        timer = setTimeout(resolve, timeoutMs, null)
      ),
    ]);
    clearTimeout(timer);
    return status;
  }

  /** Whether the server is running. */
  get alive(): boolean {
    return this.#process.alive;
  }
}

/** Options for {@linkcode CaseContext.connect}. */
export interface PeerOptions {
  /** Trace received lines only as counts. */
  quiet?: boolean;
  /**
   * The client's read buffer.
   *
   * @default {16384}
   */
  readBufferBytes?: number;
  /**
   * On failure, record a finding and abort the case; when false, just
   * throw the error (the caller counts failures itself).
   *
   * @default {true}
   */
  mustConnect?: boolean;
}

/**
 * The context of one attempt of one case.
 *
 * @example
 * ```ts ignore
 * async function run(ctx: CaseContext) {
 *   const [a, b] = await ctx.room(["A", "B"]);
 *   await a.send("hello");
 *   await ctx.expectLines(b, ["hello"], await ctx.sentinel(a));
 * }
 * ```
 */
export class CaseContext {
  /** The case being run. */
  readonly definition: CaseDefinition;
  /** The wire trace. */
  readonly trace: TraceRecorder;
  /** The run's settings. */
  readonly settings: CaseSettings;
  /** The spawned server, with `--spawn`. */
  readonly server: ServerMonitor | undefined;
  /** Findings so far. */
  readonly findings: Finding[] = [];
  /** Measurements so far. */
  readonly measurements: Record<string, DataValue> = {};

  readonly #stats: WireStats;
  readonly #peers: Writer[] = [];
  readonly #joined: Writer[] = [];
  #connects = 0;
  #sentinels = 0;
  #ticks = 0;
  #disposed = false;

  /** Creates the context; the runner does this. */
  constructor(
    definition: CaseDefinition,
    settings: CaseSettings,
    trace: TraceRecorder,
    stats: WireStats,
    server?: ServerMonitor,
  ) {
    this.definition = definition;
    this.settings = settings;
    this.trace = trace;
    this.#stats = stats;
    this.server = server;
  }

  /** The run's unique tag for this attempt. */
  get tag(): string {
    return this.settings.tag;
  }

  /** The declared line limit L. */
  get maxLineBytes(): number {
    return this.settings.maxLineBytes;
  }

  /** The size of the "far over any sane limit" line: 16 MiB, or 4 L. */
  get hugeLineBytes(): number {
    return Math.max(16 * 1024 * 1024, 4 * this.settings.maxLineBytes);
  }

  /** `baseMs` times the timeout scale. */
  timeout(baseMs: number): number {
    return Math.round(baseMs * this.settings.timeoutScale);
  }

  /** Whether {@linkcode dispose} ran (the case was abandoned). */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Connects a traced client to the next target. Throws
   * {@linkcode CaseAbort} (after recording why) if it cannot.
   */
  async connect(name: string, options: PeerOptions = {}): Promise<Peer> {
    const target = this.#nextTarget();
    const where = `${target.hostname}:${target.port}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = connect(target, {
      maxLineBytes: this.hugeLineBytes * 2,
      readBufferBytes: options.readBufferBytes ?? 16 * 1024,
    });
    try {
      const client = await Promise.race([
        attempt,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `not accepted within ${this.timeout(TIMEOUTS.connect)} ms`,
                ),
              ),
            this.timeout(TIMEOUTS.connect),
          )
        ),
      ]);
      const peer = new Peer(name, client, this.trace, this.#stats);
      peer.quiet = options.quiet ?? false;
      this.#peers.push(peer);
      this.trace.record(name, "connect", `${client.localAddr} → ${where}`);
      if (this.#disposed) peer.close();
      return peer;
    } catch (error) {
      attempt.then((client) => client.close(), () => {});
      if (options.mustConnect === false) throw error;
      return this.#connectFailed(name, where, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connects a `node:net` client, which can leave by reset. */
  async connectRaw(
    name: string,
    options: Pick<PeerOptions, "mustConnect"> = {},
  ): Promise<RawPeer> {
    const target = this.#nextTarget();
    const where = `${target.hostname}:${target.port}`;
    try {
      const peer = await RawPeer.connect(
        name,
        target,
        this.trace,
        this.timeout(TIMEOUTS.connect),
      );
      this.#peers.push(peer);
      if (this.#disposed) peer.close();
      return peer;
    } catch (error) {
      if (options.mustConnect === false) throw error;
      return this.#connectFailed(name, where, error);
    }
  }

  #nextTarget(): TargetAddress {
    const targets = this.settings.targets;
    return targets[this.#connects++ % targets.length];
  }

  #connectFailed(name: string, where: string, error: unknown): never {
    const message = describeError(error);
    if (/too many open files/i.test(message)) {
      throw new CaseSkip(
        `the harness ran out of file descriptors (${message}); raise ulimit -n`,
      );
    }
    this.trace.record(name, "error", `connect: ${message}`);
    this.fail(`${name} could not connect to ${where}: ${message}`, {
      clause: "§5.2",
    });
    throw new CaseAbort();
  }

  /**
   * Connects clients one after another and registers each with a barrier
   * (see {@linkcode join}), so the server's join order is the list order.
   */
  async room(
    names: readonly string[],
    options: PeerOptions = {},
  ): Promise<Peer[]> {
    const peers: Peer[] = [];
    for (const name of names) {
      const peer = await this.connect(name, options);
      await this.join(peer);
      peers.push(peer);
    }
    return peers;
  }

  /**
   * Registration barrier: `peer` sends a join line and every client
   * joined before it reads until that line arrives. When it has, the
   * server has registered `peer` (it read its line) and relays to every
   * earlier client. The first client is proven by the second one's join.
   * Lines other than barrier lines met meanwhile go to
   * {@linkcode Peer.unsolicited}.
   */
  async join(peer: Writer): Promise<void> {
    const readers = this.#joined.filter((p): p is Peer =>
      p instanceof Peer && !p.client.closed && p.ended === undefined
    );
    this.#joined.push(peer);
    if (readers.length === 0) return;
    const token = encoder.encode(
      `${CONTROL_PREFIX}join~${this.tag}~${peer.name}`,
    );
    await peer.send(token);
    // Across several targets (nodes) an earlier client may not be registered
    // with its own node yet when this line reaches that node: nodes accept
    // independently. Repeat the line until every reader has it; the repeats
    // are control lines, which no case sees.
    const repeat = this.settings.targets.length > 1
      ? setInterval(
        () => peer.send(token).catch(() => {}),
        this.timeout(REPEAT_JOIN_MS),
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
   * The barrier's second leg: `from` sends an ack line and each joiner
   * reads until it, so whatever the server sent a joiner first (banner,
   * notices, history) is in its {@linkcode Peer.unsolicited}, not in what
   * the case judges next.
   */
  async #ack(from: Peer, joiners: readonly Peer[]): Promise<void> {
    const token = encoder.encode(
      `${CONTROL_PREFIX}ack~${this.tag}~${from.name}~${++this.#ticks}`,
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
   * Registers many clients at once: each sends its join line and every
   * client already joined reads until it has all of them.
   */
  async joinMany(peers: readonly Writer[]): Promise<void> {
    const readers = this.#joined.filter((p): p is Peer =>
      p instanceof Peer && !p.client.closed && p.ended === undefined
    );
    if (readers.length === 0) {
      throw new Error("joinMany needs a client joined before");
    }
    const tokens = peers.map((p) =>
      encoder.encode(`${CONTROL_PREFIX}join~${this.tag}~${p.name}`)
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
        this.fail(
          `the server closed at least ${count} of the ${peers.length} clients that had just connected ` +
            `(the first: ${
              peers[first].name
            }): it holds fewer clients than the case needs ` +
            "(a client limit? see --clients and --max-clients)",
          { clause: "§4.8", data: { closed: count, connected: peers.length } },
        );
        // It explains the barrier failures recorded before it.
        this.findings.unshift(this.findings.pop()!);
      }
      throw error;
    }
    const joiners = peers.filter((p): p is Peer => p instanceof Peer);
    if (joiners.length > 0) {
      await this.#ack(readers[readers.length - 1], joiners);
    }
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
    const timeoutMs = this.timeout(
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
      this.fail(
        `registration barrier: ${
          who.startsWith("the ack") ? who : `the join line of ${who}`
        } did not reach ` +
          `${reader.name}: ${this.describeEnd(got, timeoutMs)}`,
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
  async tick(sender: Writer, receiver: Peer): Promise<void> {
    const token = encoder.encode(
      `${CONTROL_PREFIX}tick~${this.tag}~${++this.#ticks}`,
    );
    await sender.send(token);
    const timeoutMs = this.timeout(TIMEOUTS.line);
    const got = await receiver.collectUntil(token, { timeoutMs });
    receiver.stray.push(...got.lines);
    if (got.end !== "found") {
      this.fail(
        `tick from ${sender.name} did not reach ${receiver.name}: ${
          this.describeEnd(got, timeoutMs)
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
  async sentinel(from: Writer): Promise<Uint8Array> {
    const token = encoder.encode(
      `lcc~end~${this.tag}~${from.name}~${++this.#sentinels}`,
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
    options: { clause?: string; what?: string; timeoutMs?: number } = {},
  ): Promise<boolean> {
    const want = expected.map((l) =>
      typeof l === "string" ? encoder.encode(l) : l
    );
    const timeoutMs = options.timeoutMs ?? this.timeout(TIMEOUTS.line);
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
      this.fail(
        `${receiver.name} never got the sentinel that follows ${
          options.what ?? "the lines"
        }: ${this.describeEnd(got, timeoutMs)}`,
        evidence,
      );
      return false;
    }
    const mismatch = describeMismatch(receiver.name, want, lines);
    if (mismatch !== null) {
      this.fail(mismatch, evidence);
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

  /** Whether a client of this run sent a line with exactly these bytes. */
  wasSent(bytes: Uint8Array): boolean {
    return this.#stats.sent?.has(lineKey(bytes)) ?? false;
  }

  /** Says why a collect ended without its match. */
  describeEnd(collected: Collected, timeoutMs: number): string {
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
   * Records that the requirement is broken: `fail` in a MUST (or INFO)
   * case, `non-strict` in a SHOULD case.
   */
  fail(message: string, evidence: Evidence = {}): void {
    this.#record(
      this.definition.level === "SHOULD" ? "non-strict" : "fail",
      message,
      evidence,
    );
  }

  /** Records that a SHOULD is broken (whatever the case's level). */
  nonStrict(message: string, evidence: Evidence = {}): void {
    this.#record("non-strict", message, evidence);
  }

  /** Records a note: what was observed, when nothing is broken. */
  info(message: string, evidence: Evidence = {}): void {
    this.#record("info", message, evidence);
  }

  /** Records a part of the case that could not be judged here. */
  skipPart(message: string, evidence: Evidence = {}): void {
    this.#record("skip", message, evidence);
  }

  /** Stops the case as skipped, with the reason. */
  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  /** Records `message` as a failure and stops the case. */
  abort(message: string, evidence: Evidence = {}): never {
    this.fail(message, evidence);
    throw new CaseAbort(message);
  }

  /** Records a measurement. */
  measure(name: string, value: DataValue): void {
    this.measurements[name] = typeof value === "number"
      ? Math.round(value * 1000) / 1000
      : value;
    this.trace.note(`measured ${name} = ${value}`);
  }

  /** Adds a note to the trace. */
  note(text: string): void {
    this.trace.note(text);
  }

  /**
   * Whether the server ended (EOF or reset) the connection of any client
   * of the case: how a crash first shows when the case expected no more.
   */
  get sawServerEnd(): boolean {
    return this.#peers.some((peer) =>
      (peer instanceof Peer || peer instanceof RawPeer) &&
      peer.ended !== undefined
    );
  }

  /** Whether any finding so far fails the case. */
  get failed(): boolean {
    return this.findings.some((f) => f.severity === "fail");
  }

  /** Closes every client of the case. */
  dispose(): void {
    this.#disposed = true;
    for (const peer of this.#peers) {
      try {
        peer.close();
      } catch {
        // Already closed.
      }
    }
  }

  #record(
    severity: Finding["severity"],
    message: string,
    evidence: Evidence,
  ): void {
    const finding: Finding = {
      severity,
      clause: evidence.clause ?? this.definition.clause,
      message,
    };
    if (evidence.expected) {
      finding.expected = escapeClientLines(evidence.expected);
    }
    if (evidence.received) {
      finding.received = escapeClientLines(evidence.received);
    }
    if (evidence.data) finding.data = evidence.data;
    this.findings.push(finding);
    this.trace.note(`${severity}: ${message}`);
  }
}

function escapeClientLines(
  lines: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>,
): ClientLines {
  const out: ClientLines = {};
  for (const [client, list] of Object.entries(lines)) {
    const shown = list.length > 200 ? list.slice(0, 200) : list;
    out[client] = escapeLines(shown);
    if (list.length > shown.length) {
      out[client].push(`… ${list.length - shown.length} more lines`);
    }
  }
  return out;
}
