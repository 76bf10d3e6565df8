/**
 * A conformance case and the context it runs in: {@linkcode CaseDefinition}
 * says what a case checks and needs, {@linkcode CaseContext} is everything
 * its `run` works with. The context only joins the harness's pieces:
 * clients (`case_peers.ts`), synchronisation through the server
 * (`sync.ts`), findings (`findings.ts`) and the spawned server
 * (`server_monitor.ts`).
 *
 * @module
 */

import { CasePeers, type PeerOptions } from "./case_peers.ts";
import { type Evidence, FindingRecorder } from "./findings.ts";
import type { PeerWriter } from "./line_writer.ts";
import type { Collected, Peer } from "./peer.ts";
import type { RawPeer } from "./raw_peer.ts";
import type { ServerMonitor } from "./server_monitor.ts";
import { type CaseSettings, scaledTimeout, scaledWait } from "./settings.ts";
import { describeEnd, type ExpectLinesOptions } from "./judge_lines.ts";
import { RoomSync } from "./sync.ts";
import type { TraceRecorder } from "./trace.ts";
import type { DataValue, Finding, Level } from "./types.ts";
import { lineKey, type WireStats } from "./wire_stats.ts";

/**
 * A conformance case: metadata plus the function that runs it.
 *
 * @example
 * ```ts
 * import type { CaseDefinition } from "./case.ts";
 * const noEcho: CaseDefinition = {
 *   id: "relay.no-echo",
 *   clause: "§2.2",
 *   level: "MUST",
 *   requirement: "The sender never receives its own line",
 *   async run(ctx) {
 *     const [a, b] = await ctx.room(["A", "B"]);
 *     await a.send("hello");
 *     await ctx.expectLines(a, [], await ctx.sentinel(b));
 *   },
 * };
 * console.log(noEcho.id);
 * ```
 */
export interface CaseDefinition {
  /** Stable dotted id: `<area>.<name>`. */
  id: string;
  /** The PROTOCOL.md clause checked. */
  clause: string;
  /** How binding the requirement is. */
  level: Level;
  /** The requirement, in one line. */
  requirement: string;
  /**
   * What the case needs beyond a target: `spawn` (a server the harness
   * started, for /proc measurements and signals) or `max-clients` (the
   * target's declared client limit). Without them it is skipped.
   */
  needs?: ("spawn" | "max-clients")[];
  /**
   * With `--spawn`, start the server afresh before the case, so that what
   * earlier cases did to its memory does not blur a measurement.
   *
   * @default {false}
   */
  freshServer?: boolean;
  /**
   * The case's hard deadline, in ms (scaled by the timeout scale): a case
   * still running then is stopped with verdict `timeout`. The run's bound
   * is the sum of its cases' deadlines (or `--deadline`).
   *
   * @default {20000}
   */
  budgetMs?: number;
  /** Runs the case; findings go through `ctx`. */
  run(ctx: CaseContext): Promise<void>;
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

  readonly #stats: WireStats;
  readonly #findings: FindingRecorder;
  readonly #peers: CasePeers;
  readonly #sync: RoomSync;

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
    this.#findings = new FindingRecorder(
      definition.level,
      definition.clause,
      trace,
    );
    this.#peers = new CasePeers(
      settings,
      trace,
      stats,
      this.#findings,
      this.hugeLineBytes * 2,
    );
    this.#sync = new RoomSync(settings, this.#findings, trace);
  }

  // ---- settings ----------------------------------------------------------

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

  /**
   * `baseMs` times the timeout scale: for durations and bounds that do not
   * depend on how fast the server relays.
   */
  timeout(baseMs: number): number {
    return scaledTimeout(this.settings, baseMs);
  }

  /**
   * A wait for lines: `baseMs` times the timeout scale and the wait scale
   * measured from the server's latency before the cases.
   */
  wait(baseMs: number): number {
    return scaledWait(this.settings, baseMs);
  }

  /** The line ending the harness sends: `"\n"`, or `"\r\n"` (`--send-eol crlf`). */
  get eol(): string {
    return this.settings.sendEol === "crlf" ? "\r\n" : "\n";
  }

  // ---- clients (case_peers.ts) -------------------------------------------

  /** Whether {@linkcode dispose} ran (the case was abandoned). */
  get disposed(): boolean {
    return this.#peers.disposed;
  }

  /** See {@linkcode CasePeers.connect}. */
  async connect(name: string, options: PeerOptions = {}): Promise<Peer> {
    const peer = await this.#peers.connect(name, options);
    this.#sync.connected(name);
    return peer;
  }

  /** See {@linkcode CasePeers.connectRaw}. */
  async connectRaw(
    name: string,
    options: Pick<PeerOptions, "mustConnect"> = {},
  ): Promise<RawPeer> {
    const peer = await this.#peers.connectRaw(name, options);
    this.#sync.connected(name);
    return peer;
  }

  /** See {@linkcode CasePeers.slowestConnectMs}. */
  get slowestConnectMs(): number {
    return this.#peers.slowestConnectMs;
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

  /** See {@linkcode CasePeers.sawServerEnd}. */
  get sawServerEnd(): boolean {
    return this.#peers.sawServerEnd;
  }

  /** Closes every client of the case. */
  dispose(): void {
    this.#peers.dispose();
  }

  /** Whether a client of this run sent a line with exactly these bytes. */
  wasSent(bytes: Uint8Array): boolean {
    return this.#stats.sent?.has(lineKey(bytes)) ?? false;
  }

  // ---- synchronisation (sync.ts) -----------------------------------------

  /** See {@linkcode RoomSync.join}. */
  join(peer: PeerWriter): Promise<void> {
    return this.#sync.join(peer);
  }

  /** See {@linkcode RoomSync.joinMany}. */
  joinMany(peers: readonly PeerWriter[]): Promise<void> {
    return this.#sync.joinMany(peers);
  }

  /** See {@linkcode RoomSync.tick}. */
  tick(sender: PeerWriter, receiver: Peer): Promise<void> {
    return this.#sync.tick(sender, receiver);
  }

  /** See {@linkcode RoomSync.sentinel}. */
  sentinel(from: PeerWriter): Promise<Uint8Array> {
    return this.#sync.sentinel(from);
  }

  /** See {@linkcode RoomSync.collect}. */
  collect(
    receiver: Peer,
    match: Uint8Array | ((bytes: Uint8Array) => boolean),
    options: { what: string; timeoutMs?: number; keepControl?: boolean },
  ): Promise<Collected & { waitedMs: number }> {
    return this.#sync.collect(receiver, match, options);
  }

  /** See {@linkcode RoomSync.expectLines}. */
  expectLines(
    receiver: Peer,
    expected: readonly (string | Uint8Array)[],
    sentinel: Uint8Array,
    options: ExpectLinesOptions = {},
  ): Promise<boolean> {
    return this.#sync.expectLines(receiver, expected, sentinel, options);
  }

  /** See {@linkcode RoomSync.collectUntilAll}. */
  collectUntilAll(
    receiver: Peer,
    sentinels: readonly Uint8Array[],
    timeoutMs: number,
  ): Promise<Collected & { missing: Uint8Array[]; waitedMs: number }> {
    return this.#sync.collectUntilAll(receiver, sentinels, timeoutMs);
  }

  /** See {@linkcode describeEnd}. */
  describeEnd(collected: Collected, timeoutMs: number): string {
    return describeEnd(collected, timeoutMs);
  }

  // ---- findings (findings.ts) --------------------------------------------

  /** Findings so far. */
  get findings(): Finding[] {
    return this.#findings.findings;
  }

  /** Measurements so far. */
  get measurements(): Record<string, DataValue> {
    return this.#findings.measurements;
  }

  /** Whether any finding so far fails the case. */
  get failed(): boolean {
    return this.#findings.failed;
  }

  /** See {@linkcode FindingRecorder.fail}. */
  fail(message: string, evidence: Evidence = {}): void {
    this.#findings.fail(message, evidence);
  }

  /** See {@linkcode FindingRecorder.failFirst}. */
  failFirst(message: string, evidence: Evidence = {}): void {
    this.#findings.failFirst(message, evidence);
  }

  /** See {@linkcode FindingRecorder.nonStrict}. */
  nonStrict(message: string, evidence: Evidence = {}): void {
    this.#findings.nonStrict(message, evidence);
  }

  /** See {@linkcode FindingRecorder.info}. */
  info(message: string, evidence: Evidence = {}): void {
    this.#findings.info(message, evidence);
  }

  /** See {@linkcode FindingRecorder.skipPart}. */
  skipPart(message: string, evidence: Evidence = {}): void {
    this.#findings.skipPart(message, evidence);
  }

  /** See {@linkcode FindingRecorder.skip}. */
  skip(reason: string): never {
    return this.#findings.skip(reason);
  }

  /** See {@linkcode FindingRecorder.abort}. */
  abort(message: string, evidence: Evidence = {}): never {
    return this.#findings.abort(message, evidence);
  }

  /** See {@linkcode FindingRecorder.harness}. */
  harness(
    severity: Finding["severity"],
    message: string,
    evidence: Evidence = {},
    first = false,
  ): void {
    this.#findings.harness(severity, message, evidence, first);
  }

  /** Takes no more findings from the case (it was stopped at its deadline). */
  closeFindings(): void {
    this.#findings.close();
  }

  /**
   * Ends the attempt's synchronisation: what arrived late and who was
   * registered late become findings (see {@linkcode RoomSync.finish}).
   */
  finish(): void {
    this.#sync.finish();
  }

  /** See {@linkcode FindingRecorder.measure}. */
  measure(name: string, value: DataValue): void {
    this.#findings.measure(name, value);
  }

  /** Adds a note to the trace. */
  note(text: string): void {
    this.trace.note(text);
  }
}
