/**
 * Runs one fuzz schedule against a server and judges it against the
 * model. Two observers, `O` and `P`, stay in the room for the whole run:
 * every step is synchronised through the server, not with sleeps (`O`
 * reads until it has every line the model says the step completed, so the
 * server had them before the next step; `P` sends the ticks that make the
 * server read a send's segments apart, and the final sentinel: whoever
 * reads up to it has everything). A client reads what it must have before
 * it leaves, and one that half-closes waits for the server's FIN. Every
 * wait is bounded; the first mismatch ends the run.
 *
 * @module
 */

import type { Target } from "../../lib/args.ts";
import { describeError } from "../describe_error.ts";
import { TraceRecorder } from "../trace.ts";
import { FuzzClient } from "./fuzz_client.ts";
import { CLAUSE_RANK, judgeConnection, type Mismatch } from "./judge.ts";
import { Model } from "./model.ts";
import { latin1Bytes, segments, type Step } from "./schedule.ts";

/**
 * Options for {@linkcode executeSchedule}.
 *
 * @example
 * ```ts
 * import type { ExecuteOptions } from "./execute.ts";
 * const options: ExecuteOptions = { target: { hostname: "127.0.0.1", port: 7687 }, tag: "f1" };
 * console.log(options.tag);
 * ```
 */
export interface ExecuteOptions {
  /** The server. */
  target: Target;
  /** Unique per run: it goes into the observers' lines. */
  tag: string;
  /**
   * The first three bytes of the source addresses (`127.9.4`): `O` gets
   * `.1`, `P` `.2`, client A `.3`, …; a reconnect comes from the same one.
   * None: the system picks (every client then shares one address).
   */
  addressBlock?: string;
  /**
   * The most a wait for lines may take, in ms.
   *
   * @default {1000}
   */
  waitMs?: number;
  /**
   * The most a connect may take, in ms.
   *
   * @default {2000}
   */
  connectMs?: number;
}

/**
 * What a run of a schedule found.
 *
 * @example
 * ```ts
 * import type { Execution } from "./execute.ts";
 * const run: Partial<Execution> = { mismatches: [], timedOut: false };
 * console.log(run.mismatches?.length); // 0
 * ```
 */
export interface Execution {
  /** Differences from the model, headline first; empty when it passed. */
  mismatches: Mismatch[];
  /** Whether a wait ran out (a slow machine can cause that). */
  timedOut: boolean;
  /** The steps done (the applicable ones, up to the first mismatch). */
  done: number;
  /** The wire trace. */
  trace: TraceRecorder;
  /** Wall time of the run, ms. */
  durationMs: number;
  /** Lines the run's clients received, and of those, ended by LF alone. */
  received: { lines: number; lfOnly: number };
}

/**
 * Runs `steps` (those that apply) against `options.target`.
 *
 * @example
 * ```ts ignore
 * import { executeSchedule } from "./execute.ts";
 * const run = await executeSchedule([{ do: "join", client: 0, line: "hi" }], {
 *   target: { hostname: "127.0.0.1", port: 7687 },
 *   tag: "f1",
 * });
 * console.log(run.mismatches);
 * ```
 */
export async function executeSchedule(
  steps: readonly Step[],
  options: ExecuteOptions,
): Promise<Execution> {
  const run = new ScheduleRun(options);
  const t0 = performance.now();
  try {
    await run.play(steps);
  } finally {
    await run.teardown();
  }
  return {
    mismatches: run.mismatches.sort((a, b) =>
      CLAUSE_RANK.indexOf(a.clause) - CLAUSE_RANK.indexOf(b.clause)
    ),
    timedOut: run.timedOut,
    done: run.done,
    trace: run.trace,
    durationMs: performance.now() - t0,
    received: run.received(),
  };
}

/** The first mismatch ends a run. */
class Stop extends Error {}

class ScheduleRun {
  readonly trace = new TraceRecorder({ maxEvents: 600 });
  readonly mismatches: Mismatch[] = [];
  readonly model = new Model(["O", "P"]);
  readonly clients = new Map<string, FuzzClient>();
  readonly #options: ExecuteOptions;
  readonly #waitMs: number;
  timedOut = false;
  done = 0;
  #ticks = 0;

  constructor(options: ExecuteOptions) {
    this.#options = options;
    this.#waitMs = options.waitMs ?? 1000;
  }

  #address(client: number): string | undefined {
    const block = this.#options.addressBlock;
    return block === undefined ? undefined : `${block}.${client + 3}`;
  }

  async #connect(
    name: string,
    address: string | undefined,
  ): Promise<FuzzClient> {
    try {
      const client = await FuzzClient.connect(
        name,
        this.#options.target,
        address,
        this.trace,
        this.#options.connectMs ?? 2000,
      );
      this.clients.set(name, client);
      return client;
    } catch (error) {
      this.#stop({
        clause: "§5.2",
        client: name,
        message: `${name} could not connect: ${describeError(error)}`,
      });
    }
  }

  #stop(mismatch: Mismatch): never {
    this.mismatches.push(mismatch);
    throw new Stop();
  }

  async play(steps: readonly Step[]): Promise<void> {
    try {
      const block = this.#options.addressBlock;
      await this.#connect("O", block && `${block}.1`);
      const p = await this.#connect("P", block && `${block}.2`);
      await this.#observerLine(p, `lcf~start~${this.#options.tag}`);
      for (const step of steps) {
        if (!this.model.applicable(step)) continue;
        this.done++;
        this.trace.note(`step ${this.done}`);
        await this.#step(step);
        this.#checkEnded();
      }
      await this.#finish(p);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
  }

  /** `P` sends `text` + LF; `O` reads until it has it. */
  async #observerLine(p: FuzzClient, text: string): Promise<void> {
    const bytes = latin1Bytes(text + "\n");
    this.model.send("P", bytes, this.done);
    await p.write(bytes);
    await this.#sync();
  }

  /** `O` reads until it has every line it must have so far, then is judged. */
  async #sync(): Promise<void> {
    const o = this.clients.get("O")!;
    const expected = this.model.conn("O")!.expected;
    const ok = await o.waitUntil(
      () => o.received.length >= expected.length,
      this.#waitMs,
    );
    if (!ok) this.timedOut = true;
    this.#judge("O", o);
  }

  #judge(name: string, client: FuzzClient): void {
    const found = judgeConnection(
      this.model,
      this.model.conn(name)!,
      client.received,
    );
    if (found.length > 0) {
      this.mismatches.push(...found.slice(1));
      this.#stop(found[0]);
    }
  }

  /** A client the server closed, though it never left. */
  #checkEnded(): void {
    for (const [name, client] of this.clients) {
      const conn = this.model.conn(name)!;
      if (client.ended !== undefined && conn.open) {
        this.#stop({
          clause: "§3.2",
          client: name,
          message: `the server ${
            client.ended === "eof" ? "closed" : "reset"
          } ${name}'s connection, though ${name} was still in the room`,
        });
      }
    }
  }

  async #step(step: Step): Promise<void> {
    const model = this.model;
    if (step.do === "join") {
      const name = model.nextName(step.client);
      const client = await this.#connect(name, this.#address(step.client));
      model.apply(step, this.done);
      await client.write(latin1Bytes(step.line + "\n"));
      await this.#sync();
      return;
    }
    const conn = model.current(step.client)!;
    const client = this.clients.get(conn.name)!;
    if (step.do === "pause" || step.do === "resume") {
      model.apply(step, this.done);
      if (step.do === "pause") client.pause();
      else client.resume();
      return;
    }
    if (step.do === "send") {
      const parts = segments(step);
      for (const [i, part] of parts.entries()) {
        model.send(conn.name, part, this.done);
        await client.write(part);
        if (step.tick && i < parts.length - 1) {
          await this.#observerLine(
            this.clients.get("P")!,
            `lcf~tick~${this.#options.tag}~${++this.#ticks}`,
          );
        }
      }
      await this.#sync();
      return;
    }
    // Leaving: first read what it must have, so its stream is judged whole.
    if (conn.paused) client.resume();
    const ok = await client.waitUntil(
      () => client.received.length >= conn.expected.length,
      this.#waitMs,
    );
    if (!ok) this.timedOut = true;
    this.#judge(conn.name, client);
    if (step.tail !== "") await client.write(latin1Bytes(step.tail));
    model.apply(step, this.done);
    const partial = model.dropped.at(-1)?.from === conn.name;
    if (step.how === "close") client.close();
    if (step.how === "reset") client.reset();
    if (partial && step.how !== "half-close") {
      // Nothing shows that the server saw it leave; a tick round its loop
      // is where a partial line it wrongly relays would show.
      await this.#observerLine(
        this.clients.get("P")!,
        `lcf~tick~${this.#options.tag}~${++this.#ticks}`,
      );
    }
    if (step.how === "half-close") {
      client.halfClose();
      // The server has seen it leave once it closes its side.
      const closed = await client.waitUntil(
        () => client.ended !== undefined,
        this.#waitMs,
      );
      if (!closed) {
        this.trace.note(
          `${conn.name}: the server did not close the half-closed connection within ${this.#waitMs} ms`,
        );
      }
    }
  }

  async #finish(p: FuzzClient): Promise<void> {
    const model = this.model;
    for (const conn of model.conns) {
      if (conn.paused) this.clients.get(conn.name)?.resume();
      conn.paused = false;
    }
    // Every reader reads up to P's last line, twice: the second time after
    // one more turn of the server's loop, for anything still on its way.
    const end = `lcf~end~${this.#options.tag}`;
    for (const text of [end, `${end}~2`]) {
      const bytes = latin1Bytes(text + "\n");
      model.send("P", bytes, this.done);
      await p.write(bytes);
      const sentinel = latin1Bytes(text);
      const readers = model.conns.filter((c) => c.open && c.name !== "P");
      const arrived = await Promise.all(readers.map((conn) => {
        const client = this.clients.get(conn.name)!;
        return client.waitUntil(
          () =>
            client.received.some((l) =>
              l.bytes.length === sentinel.length &&
              l.bytes.every((b, i) => b === sentinel[i])
            ),
          this.#waitMs,
        );
      }));
      if (arrived.includes(false)) {
        // Missing already: the second round would only wait as long again.
        this.timedOut = true;
        break;
      }
    }
    await p.waitUntil(
      () => p.received.length >= model.conn("P")!.expected.length,
      this.#waitMs,
    );
    for (const conn of model.conns) {
      const client = this.clients.get(conn.name);
      if (client === undefined) continue;
      const found = judgeConnection(model, conn, client.received);
      this.mismatches.push(...found);
    }
    this.#checkEnded();
  }

  /** What the clients received, for the report's server summary. */
  received(): { lines: number; lfOnly: number } {
    const all = [...this.clients.values()].flatMap((c) => c.received);
    return {
      lines: all.length,
      lfOnly: all.filter((l) => l.terminator === "lf").length,
    };
  }

  /**
   * Closes every client, a few ms apart and a few ms after the last step
   * (so that the end of a run is not a burst of departures, which a server
   * may remember into the next run), the observers last.
   */
  async teardown(): Promise<void> {
    const names = [...this.clients.keys()].reverse();
    for (const name of names) {
      const client = this.clients.get(name)!;
      if (client.closed) continue;
      await new Promise((resolve) => setTimeout(resolve, 3));
      client.resume();
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}
