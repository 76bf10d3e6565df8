/**
 * Before the cases: two clients connect and exchange lines to learn what
 * the run must know of the server first. Whether it can be reached at all
 * (this is the reachability check for `--target`: the connections stay
 * open while they work, so a server that notices a client that comes and
 * goes at once is not disturbed); whether it dies when a client connects;
 * whether lines ended by LF come back, or only those ended by CR LF;
 * whether it decorates the lines it relays; and its latency: the median
 * and 99th percentile of a round trip (one line from A to B, one back),
 * from which every wait of the run is scaled.
 *
 * @module
 */

import { connect } from "../client/chat_client.ts";
import { type AnyTarget, asEndpoint, formatEndpoint } from "../lib/endpoint.ts";
import { describeStatus } from "../lib/exit_status.ts";
import type { ServerProcess } from "../lib/server_process.ts";
import { endsWith, utf8 } from "./bytes.ts";
import { percentile } from "./cases/_helpers.ts";
import { describeError } from "./describe_error.ts";
import { escapeBytes, escapeOutput } from "./escape.ts";
import { Peer } from "./peer.ts";
import type { CompiledDialect } from "./dialect/dialect.ts";
import { applyDialect } from "./dialect/handshake.ts";
import { scaledTimeout, TIMEOUTS, waitScaleFor } from "./settings.ts";
import { TraceRecorder } from "./trace.ts";
import type { Diagnosis, Latency } from "./types.ts";

/** Round trips measured at most… */
const MAX_ROUNDS = 20;
/** …and at least, however slow the server. */
const MIN_ROUNDS = 5;
/** Round trips stop once they took this long (scaled), past MIN_ROUNDS. */
const ROUNDS_MS = 2000;
/**
 * A median round trip over this makes the latency a root cause (§2.11): a
 * server that relays at once takes well under a millisecond here, a few on
 * a busy machine.
 */
const SLOW_ROUND_TRIP_MS = 20;

/**
 * What to probe.
 *
 * @example
 * ```ts ignore
 * const options: PreflightOptions = { target, timeoutScale: 1, sendEol: "lf", tag: "c0" };
 * ```
 */
export interface PreflightOptions {
  /** Where the two clients connect. */
  target: AnyTarget;
  /** Certificates (PEM) to trust for `tls` and `wss` targets. */
  caCerts?: string[];
  /** The run's timeout scale. */
  timeoutScale: number;
  /** How the run's clients end their lines. */
  sendEol: "lf" | "crlf";
  /**
   * The server's dialect: the probes' clients perform its handshake and
   * read through it.
   *
   * @default {undefined}
   */
  dialect?: CompiledDialect;
  /** A tag no case uses. */
  tag: string;
  /** With `--spawn`: the server, to tell whether it died. */
  server?: ServerProcess;
}

/**
 * What the preflight found.
 *
 * @example
 * ```ts
 * import type { PreflightResult } from "./preflight.ts";
 * const result: PreflightResult = { latency: null, diagnoses: [] };
 * console.log(result.diagnoses.length);
 * ```
 */
export interface PreflightResult {
  /** The measured latency, or null if no round trip completed. */
  latency: Latency | null;
  /** What is wrong with the server as a whole, found before any case. */
  diagnoses: Diagnosis[];
  /** The first client could not connect at all: why (one line). */
  unreachable?: string;
  /** The server died while the preflight's clients were connected. */
  died?: boolean;
}

function diagnosis(
  fields: Omit<Diagnosis, "cases" | "stopped"> & { stopped?: boolean },
): Diagnosis {
  return { cases: [], stopped: false, ...fields };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connects two clients and probes the server (see the module doc). Never
 * throws: what went wrong is in the result.
 *
 * @example
 * ```ts ignore
 * const result = await preflight({ target, timeoutScale: 1, sendEol: "lf", tag: "c0" });
 * console.log(result.latency?.p99Ms);
 * ```
 */
export async function preflight(
  options: PreflightOptions,
): Promise<PreflightResult> {
  const trace = new TraceRecorder();
  const stats = { linesReceived: 0, lfOnlyLines: 0 };
  const { server, tag } = options;
  const scaled = (ms: number) => scaledTimeout(options, ms);
  const where = formatEndpoint(asEndpoint(options.target));
  const peers: Peer[] = [];
  const open = async (name: string): Promise<Peer> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = connect(asEndpoint(options.target), {
      maxLineBytes: 1024 * 1024,
      caCerts: options.caCerts,
    });
    try {
      const client = await Promise.race([
        attempt,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () =>
              reject(
                new Error(`not accepted within ${scaled(TIMEOUTS.connect)} ms`),
              ),
            scaled(TIMEOUTS.connect),
          )
        ),
      ]);
      const peer = new Peer(name, client, trace, stats);
      peers.push(peer);
      if (options.dialect !== undefined) {
        const problem = await applyDialect(peer, options.dialect, {
          tag,
          timeoutMs: scaled(TIMEOUTS.line),
        });
        if (problem !== null) throw new Error(problem);
      }
      return peer;
    } catch (error) {
      attempt.then((client) => client.close(), () => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  const died = () => server !== undefined && !server.alive;
  const deathOnConnect = (): Diagnosis => {
    const status = server?.status;
    const tail = server ? escapeOutput(server.outputTail(600)).trim() : "";
    return diagnosis({
      id: "dies-on-connect",
      severity: "fail",
      clause: "§5.2",
      message:
        `the server process exits as soon as a client connects (${
          status ? describeStatus(status) : "it stopped"
        })` + (tail ? `; its last output: ${tail.split("\n").pop()}` : ""),
      data: { exitCode: status?.code ?? null, signal: status?.signal ?? null },
    });
  };
  try {
    let a: Peer;
    try {
      a = await open("A");
    } catch (error) {
      if (died()) {
        return { latency: null, diagnoses: [deathOnConnect()], died: true };
      }
      return {
        latency: null,
        diagnoses: [],
        unreachable: describeError(error).replace(/^\w+: /, ""),
      };
    }
    // A server that dies on a connection does so at once: give it a moment.
    if (server) await Promise.race([server.exited, sleep(scaled(200))]);
    if (died()) {
      return { latency: null, diagnoses: [deathOnConnect()], died: true };
    }
    let b: Peer;
    try {
      b = await open("B");
    } catch (error) {
      if (died()) {
        return { latency: null, diagnoses: [deathOnConnect()], died: true };
      }
      return {
        latency: null,
        died: true,
        diagnoses: [diagnosis({
          id: "dies-on-connect",
          severity: "fail",
          clause: "§5.2",
          message:
            `${where} accepted one connection and then refused the next (${
              describeError(error).replace(/^\w+: /, "")
            }): it probably died when the first client connected`,
        })],
      };
    }
    const diagnoses: Diagnosis[] = [];
    const waitMs = scaled(TIMEOUTS.line);
    // Does a line come back, ended by LF and by CR LF? The probe goes both
    // ways (a server may skip one client: that is a case's finding, not
    // silence), repeated with growing gaps (a server may register B late).
    const probe = async (eol: "\n" | "\r\n", name: string) => {
      const direction = async (from: Peer, to: Peer) => {
        const token = (k: number) =>
          utf8(
            `lcc~ctl~pre~${tag}~${from.name}~${name}${k > 1 ? `~r${k}` : ""}`,
          );
        const sent: Uint8Array[] = [];
        const t0 = performance.now();
        // Not faster than every 100 ms, whatever the scale: each repeat is
        // one more line a slow server must deliver before the next.
        let gap = Math.max(100, scaled(100));
        let next = t0;
        const deadline = t0 + waitMs;
        while (performance.now() < deadline && !died()) {
          if (performance.now() >= next) {
            const bytes = token(sent.length + 1);
            sent.push(bytes);
            await from.write(new Uint8Array([...bytes, ...utf8(eol)])).catch(
              () => {},
            );
            next = performance.now() + gap;
            gap *= 2;
          }
          const got = await to.collectUntil(
            (line) => sent.some((t) => endsWith(line, t)),
            {
              timeoutMs: Math.max(
                1,
                Math.min(next, deadline, performance.now() + 100) -
                  performance.now(),
              ),
              keepControl: true,
            },
          );
          if (got.end === "found") {
            const line = got.found!.bytes;
            const token = sent.find((t) => endsWith(line, t))!;
            return { line, token };
          }
          if (got.end !== "timeout") return undefined;
        }
        return undefined;
      };
      const forth = await direction(a, b);
      if (forth) return { ...forth, both: true };
      const back = await direction(b, a);
      return back ? { ...back, both: false } : undefined;
    };
    const first: "lf" | "crlf" = options.sendEol;
    const other = first === "lf" ? "crlf" : "lf";
    const eolOf = (name: "lf" | "crlf") => name === "lf" ? "\n" : "\r\n";
    let works: "lf" | "crlf" | undefined;
    let arrival = await probe(eolOf(first), first);
    if (arrival !== undefined) works = first;
    else if (!died()) {
      arrival = await probe(eolOf(other), other);
      if (arrival !== undefined) works = other;
    }
    if (died()) {
      return { latency: null, diagnoses: [deathOnConnect()], died: true };
    }
    if (works === undefined) {
      diagnoses.push(diagnosis({
        id: "silent",
        severity: "fail",
        clause: "§2.1",
        message:
          `nothing A sent reached B within ${waitMs} ms, whether ended by LF or by CR LF: ` +
          "the server relays nothing",
      }));
      return { latency: null, diagnoses };
    }
    if (works !== first) {
      diagnoses.push(
        first === "lf"
          ? diagnosis({
            id: "lf-not-terminator",
            severity: "fail",
            clause: "§1.2",
            message:
              `nothing sent with LF alone comes back: a line ended by LF did not reach the other ` +
              `client within ${waitMs} ms, a line ended by CR LF then did at once: ` +
              "the server frames only lines ended by CR LF. Every case sends its lines with LF, " +
              "so they fail on this one cause",
            hint:
              "rerun with --send-eol crlf to test the rest (framing.lf and the other LF cases still check LF)",
          })
          : diagnosis({
            id: "crlf-not-terminator",
            severity: "fail",
            clause: "§1.2",
            message:
              "nothing sent with CR LF comes back, a line ended by LF does: the server does not " +
              "take CR LF as a terminator",
            hint: "rerun with --send-eol lf",
          }),
      );
    }
    const { line, token } = arrival!;
    if (line.length > token.length) {
      const prefix = line.subarray(0, line.length - token.length);
      diagnoses.push(diagnosis({
        id: "decorated",
        severity: "fail",
        clause: "§2.4",
        message: `the server adds bytes to the lines it relays: "${
          escapeBytes(token)
        }" arrived decorated as "${
          escapeBytes(line)
        }" (a prefix of ${prefix.length} bytes)`,
        data: { prefix: escapeBytes(prefix) },
        hint: options.dialect === undefined
          ? "run --detect to propose a dialect, then --dialect to judge the payloads"
          : "the dialect's relay pattern did not match this line",
      }));
    }
    // The latency: round trips A → B → A, with the line ending that works.
    a.eol = b.eol = eolOf(works);
    const rounds: number[] = [];
    const t0 = performance.now();
    // Only B's line reached A: a round trip cannot complete (a server that
    // skips a client is a case's finding); the latency is not measured.
    const trips = arrival!.both ? MAX_ROUNDS : 0;
    for (let i = 0; i < trips; i++) {
      if (i >= MIN_ROUNDS && performance.now() - t0 > scaled(ROUNDS_MS)) break;
      const start = performance.now();
      const ping = utf8(`lcc~ctl~pre~${tag}~ping~${i}`);
      const pong = utf8(`lcc~ctl~pre~${tag}~pong~${i}`);
      await a.send(ping).catch(() => {});
      const there = await b.collectUntil(ping, {
        timeoutMs: waitMs,
        keepControl: true,
      });
      if (there.end !== "found") break;
      await b.send(pong).catch(() => {});
      const back = await a.collectUntil(pong, {
        timeoutMs: waitMs,
        keepControl: true,
      });
      if (back.end !== "found") break;
      rounds.push(performance.now() - start);
    }
    // The first round may have waited behind the probe's repeats.
    if (rounds.length > MIN_ROUNDS) rounds.shift();
    let latency: Latency | null = null;
    if (rounds.length > 0) {
      const p99Ms = round(percentile(rounds, 99));
      latency = {
        medianMs: round(percentile(rounds, 50)),
        p99Ms,
        rounds: rounds.length,
        waitScale: waitScaleFor(p99Ms),
      };
      if (latency.medianMs > SLOW_ROUND_TRIP_MS) {
        diagnoses.push(diagnosis({
          id: "slow-relay",
          severity: "non-strict",
          clause: "§2.11",
          message:
            `the server relays slowly: a line from one client to another and one back ` +
            `take ${latency.medianMs} ms (median of ${latency.rounds}; p99 ${latency.p99Ms} ms), ` +
            `where a server that relays at once takes about 1 ms; every wait is scaled ×${latency.waitScale}, ` +
            "and lines that still come after their wait are reported as late, not lost",
          data: { medianMs: latency.medianMs, p99Ms: latency.p99Ms },
        }));
      }
    }
    for (const peer of peers) peer.close();
    peers.length = 0;
    if (server) await Promise.race([server.exited, sleep(scaled(100))]);
    if (died()) {
      const status = server!.status!;
      diagnoses.push(diagnosis({
        id: "dies-on-leave",
        severity: "fail",
        clause: "§5.2",
        message:
          `the server process exited when the preflight's two clients left (${
            describeStatus(status)
          }); it was restarted`,
      }));
      return { latency, diagnoses, died: true };
    }
    return { latency, diagnoses };
  } finally {
    for (const peer of peers) peer.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
