/**
 * The clients of one attempt of a case: connecting them (round-robin over
 * the targets, each connect bounded by a scaled timeout), telling whether
 * the server ended any of them, and closing them all when the case ends.
 *
 * @module
 */

import { connect } from "../client/chat_client.ts";
import { type AnyTarget, asEndpoint, formatEndpoint } from "../lib/endpoint.ts";
import { describeError } from "./describe_error.ts";
import { CaseAbort, CaseSkip, type FindingRecorder } from "./findings.ts";
import type { PeerWriter } from "./line_writer.ts";
import { Peer } from "./peer.ts";
import { RawPeer } from "./raw_peer.ts";
import {
  type CaseSettings,
  scaledTimeout,
  scaledWait,
  TIMEOUTS,
} from "./settings.ts";
import { applyDialect, handshakeName } from "./dialect/handshake.ts";
import type { TraceRecorder } from "./trace.ts";
import type { WireStats } from "./wire_stats.ts";

/**
 * Options for {@linkcode CasePeers.connect}.
 *
 * @example
 * ```ts
 * import type { PeerOptions } from "./case_peers.ts";
 * const options: PeerOptions = { quiet: true, readBufferBytes: 4096 };
 * console.log(options.quiet);
 * ```
 */
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
 * Connects and tracks the clients of one attempt.
 *
 * @example
 * ```ts ignore
 * const peers = new CasePeers(settings, trace, stats, findings, 16 * 1024 * 1024);
 * const a = await peers.connect("A");
 * peers.dispose();
 * ```
 */
export class CasePeers {
  readonly #settings: CaseSettings;
  readonly #trace: TraceRecorder;
  readonly #stats: WireStats;
  readonly #findings: FindingRecorder;
  readonly #maxLineBytes: number;
  readonly #peers: PeerWriter[] = [];
  #connects = 0;
  #disposed = false;
  #slowestConnectMs = 0;

  /**
   * Connects for `settings`, tracing into `trace`, counting into `stats`;
   * a failed connect is recorded in `findings`. Clients read lines of up
   * to `maxLineBytes`.
   */
  constructor(
    settings: CaseSettings,
    trace: TraceRecorder,
    stats: WireStats,
    findings: FindingRecorder,
    maxLineBytes: number,
  ) {
    this.#settings = settings;
    this.#trace = trace;
    this.#stats = stats;
    this.#findings = findings;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Whether {@linkcode dispose} ran (the case was abandoned). */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * The longest a connect took so far (a server whose listen queue
   * overflows makes the kernel drop SYNs, and connects take seconds).
   */
  get slowestConnectMs(): number {
    return this.#slowestConnectMs;
  }

  #eol(): string {
    return this.#settings.sendEol === "crlf" ? "\r\n" : "\n";
  }

  /**
   * Connects a traced client to the next target. Throws
   * {@linkcode CaseAbort} (after recording why) if it cannot.
   */
  async connect(name: string, options: PeerOptions = {}): Promise<Peer> {
    const target = asEndpoint(this.#nextTarget());
    const where = formatEndpoint(target);
    const connectMs = scaledTimeout(this.#settings, TIMEOUTS.connect);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t0 = performance.now();
    const attempt = connect(target, {
      caCerts: this.#settings.caCerts,
      maxLineBytes: this.#maxLineBytes,
      readBufferBytes: options.readBufferBytes ?? 16 * 1024,
    });
    try {
      const client = await Promise.race([
        attempt,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`not accepted within ${connectMs} ms`)),
            connectMs,
          )
        ),
      ]);
      this.#slowestConnectMs = Math.max(
        this.#slowestConnectMs,
        performance.now() - t0,
      );
      const peer = new Peer(name, client, this.#trace, this.#stats);
      peer.eol = this.#eol();
      peer.quiet = options.quiet ?? false;
      this.#peers.push(peer);
      this.#trace.record(name, "connect", `${client.localAddr} → ${where}`);
      if (this.#disposed) peer.close();
      await this.#dialect(peer);
      return peer;
    } catch (error) {
      if (error instanceof CaseAbort) throw error;
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
    if ((target.kind ?? "tcp") !== "tcp") {
      // The transport table (transports.ts) should have skipped the case.
      throw new CaseSkip(
        `needs a plain TCP target: it uses a raw TCP client, and ${
          formatEndpoint(asEndpoint(target))
        } is not one`,
      );
    }
    const t0 = performance.now();
    try {
      const peer = await RawPeer.connect(
        name,
        target,
        this.#trace,
        scaledTimeout(this.#settings, TIMEOUTS.connect),
      );
      this.#slowestConnectMs = Math.max(
        this.#slowestConnectMs,
        performance.now() - t0,
      );
      peer.eol = this.#eol();
      this.#peers.push(peer);
      if (this.#disposed) peer.close();
      const send = this.#settings.dialect?.declared.handshake?.send;
      // A raw client only writes: its handshake is its name line.
      if (send !== undefined && !this.#disposed) {
        await peer.send(
          send.replaceAll("{name}", handshakeName(name, this.#settings.tag)),
        );
      }
      return peer;
    } catch (error) {
      if (options.mustConnect === false) throw error;
      return this.#connectFailed(name, where, error);
    }
  }

  /**
   * Whether the server ended (EOF or reset) the connection of any client:
   * how a crash first shows when the case expected no more.
   */
  get sawServerEnd(): boolean {
    return this.#peers.some((peer) =>
      (peer instanceof Peer || peer instanceof RawPeer) &&
      peer.ended !== undefined
    );
  }

  /** Closes every client; any connected later is closed at once. */
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

  /** With a dialect: puts it on `peer` and performs its handshake. */
  async #dialect(peer: Peer): Promise<void> {
    const dialect = this.#settings.dialect;
    if (dialect === undefined || this.#disposed) return;
    const problem = await applyDialect(peer, dialect, {
      tag: this.#settings.tag,
      timeoutMs: scaledWait(this.#settings, TIMEOUTS.line),
    });
    if (problem === null) return;
    this.#findings.fail(problem, {
      clause: "§5.2",
      cause: "dialect-handshake",
    });
    throw new CaseAbort();
  }

  #nextTarget(): AnyTarget {
    const targets = this.#settings.targets;
    return targets[this.#connects++ % targets.length];
  }

  #connectFailed(name: string, where: string, error: unknown): never {
    const message = describeError(error);
    if (/too many open files/i.test(message)) {
      throw new CaseSkip(
        `the harness ran out of file descriptors (${message}); raise ulimit -n`,
      );
    }
    this.#trace.record(name, "error", `connect: ${message}`);
    this.#findings.fail(`${name} could not connect to ${where}: ${message}`, {
      clause: "§5.2",
    });
    throw new CaseAbort();
  }
}
