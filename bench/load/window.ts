/**
 * The measurement window and what is read at its edges: the generator's
 * CPU (process, main thread, and each worker's thread), the server's CPU
 * and memory, and the
 * machine's busy time and network loss counters, all from `/proc`; and
 * the server's RSS as the clients arrive. What the readings mean is
 * worked out by `buildLoadReport`, from the plain samples kept here.
 *
 * @module
 */

import type { ServerProcess } from "../../lib/server_process.ts";
import {
  type ProcSample,
  sampleProcess,
  sampleSystem,
  sampleThread,
  type SystemCpuSample,
} from "../../lib/proc_stats.ts";
import type { RunClock } from "./clock.ts";
import { sleepUntil } from "./_util.ts";

/** How the server is measured: one process, or a group of them. */
export interface ServerProbe {
  /** The pid the report shows (for a group, its leader's). */
  readonly pid: number;
  /** Its CPU time and RSS now; undefined when they cannot be read. */
  sample(): Promise<ProcSample | undefined>;
  /** Whether it still runs. */
  alive(): Promise<boolean>;
}

/**
 * Measures one process, `pid`, from `/proc/<pid>` (`deno task load
 * --pid`): alive while it exists and is not a zombie.
 *
 * @example
 * ```ts
 * import { processProbe } from "./window.ts";
 * const probe = processProbe(Deno.pid);
 * console.log(await probe.alive(), ((await probe.sample())?.rssBytes ?? 0) > 0); // true true
 * ```
 */
export function processProbe(pid: number): ServerProbe {
  return {
    pid,
    sample: () => sampleProcess(pid).catch(() => undefined),
    alive: async () => {
      try {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        return !/^State:\s+Z/m.test(status);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Measures a started server's whole process group (`deno task load
 * --spawn`): the shell that runs the command, the server, and anything
 * it started, summed.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "../../lib/server_process.ts";
 * import { groupProbe } from "./window.ts";
 * await using server = await startServer({ command: "ncat -l --broker 127.0.0.1 {port}" });
 * console.log(await groupProbe(server).sample());
 * ```
 */
export function groupProbe(server: ServerProcess): ServerProbe {
  return {
    pid: server.pid ?? 0,
    sample: async () => (await server.sample()) ?? undefined,
    alive: () => Promise.resolve(server.alive),
  };
}

/**
 * The server's RSS as the ramp goes: before any client, at each ramp
 * step (the points of the memory-per-connection fit), once everyone has
 * joined, and the highest seen.
 *
 * @example
 * ```ts
 * import { processProbe, RssTrack } from "./window.ts";
 * const rss = new RssTrack(processProbe(Deno.pid));
 * await rss.atClients(0);
 * console.log(rss.samples.length, rss.peak > 0); // 1 true
 * ```
 */
export class RssTrack {
  /** RSS before the first client connected, bytes. */
  before = 0;
  /** RSS with every client in the room, bytes. */
  connected = 0;
  /** Highest RSS seen, bytes. */
  peak = 0;
  /** The ramp's samples: `[clients connected, rss bytes]`. */
  readonly samples: [number, number][] = [];
  readonly #probe: ServerProbe | undefined;

  /** Tracks the server `probe` measures (nothing without one). */
  constructor(probe: ServerProbe | undefined) {
    this.#probe = probe;
  }

  /** Samples with `clients` connected, as a point of the fit; 0 if unread. */
  async atClients(clients: number): Promise<number> {
    const sample = await this.#probe?.sample();
    if (!sample) return 0;
    this.samples.push([clients, sample.rssBytes]);
    this.see(sample.rssBytes);
    return sample.rssBytes;
  }

  /** Samples once everyone joined (not a point of the fit: probes allocated). */
  async afterJoin(): Promise<void> {
    if (!this.#probe) return;
    this.connected = (await this.#probe.sample())?.rssBytes ?? 0;
    this.see(this.connected);
  }

  /** Notes an RSS read elsewhere, for the peak. */
  see(rssBytes: number): void {
    this.peak = Math.max(this.peak, rssBytes);
  }
}

/** The measured window's bounds on the run's clock, µs. */
export interface WindowBounds {
  /** First µs inside the window (Infinity until it is scheduled). */
  readonly startUs: number;
  /** First µs after it (Infinity until it is scheduled). */
  readonly endUs: number;
}

/** A generator worker as the window reads it. */
export interface WorkerProbe {
  /** Its OS thread id (undefined: unknown, not read). */
  tid: number | undefined;
  /** Milliseconds its senders spent polling for send times so far. */
  spinMs: number;
}

/** One worker's thread at one edge. */
export interface WorkerEdge {
  /** Its OS thread id (undefined: unknown). */
  tid: number | undefined;
  /** Its CPU time (undefined: its thread could not be read). */
  thread: ProcSample | undefined;
  /** Its senders' polling so far, ms. */
  spinMs: number;
}

/** What is read at one edge of the window. */
export interface WindowEdge {
  /** The generator's process. */
  self: ProcSample;
  /** The generator's main thread (JavaScript and socket polling). */
  thread: ProcSample;
  /** With `--workers N`: each worker's thread, in worker order. */
  workers?: WorkerEdge[];
  /** The server, when measured and readable. */
  server: ProcSample | undefined;
  /** The machine, when `/proc/stat` is readable. */
  system: SystemCpuSample | undefined;
  /** Milliseconds the senders had spent polling for send times so far. */
  spinMs: number;
}

/** The readings at both edges of the window. */
export interface WindowSamples {
  start: WindowEdge;
  end: WindowEdge;
}

/**
 * Reads one edge of the window: the same readings open and close it.
 *
 * @example
 * ```ts
 * import { sampleEdge } from "./window.ts";
 * const edge = await sampleEdge(undefined, () => 0);
 * console.log(edge.self.cpuSeconds > 0, edge.server); // true undefined
 * ```
 */
export async function sampleEdge(
  server: ServerProbe | undefined,
  spinMs: () => number,
  workers: () => WorkerProbe[] = () => [],
): Promise<WindowEdge> {
  const probes = workers();
  const [self, thread, serverSample, system, ...threads] = await Promise.all([
    sampleProcess("self"),
    sampleThread(),
    server?.sample(),
    sampleSystem().catch(() => undefined),
    ...probes.map((probe) =>
      probe.tid === undefined
        ? undefined
        : sampleThread(Deno.pid, probe.tid).catch(() => undefined)
    ),
  ]);
  const edge: WindowEdge = {
    self,
    thread,
    server: serverSample,
    system,
    spinMs: spinMs(),
  };
  if (probes.length > 0) {
    edge.workers = probes.map((probe, i) => ({
      tid: probe.tid,
      thread: threads[i],
      spinMs: probe.spinMs,
    }));
  }
  return edge;
}

/**
 * The measured window: its bounds on the run's clock (which receivers and
 * senders compare times with) and the readings at its edges.
 *
 * @example
 * ```ts
 * import { RunClock } from "./clock.ts";
 * import { MeasurementWindow, RssTrack } from "./window.ts";
 *
 * const clock = new RunClock();
 * const window = new MeasurementWindow(clock, undefined, () => 0, new RssTrack(undefined));
 * const now = performance.now();
 * window.schedule(now, now + 20);
 * await window.open(now, Promise.resolve());
 * await window.close();
 * console.log(window.samples !== undefined, window.seconds > 0); // true true
 * ```
 */
export class MeasurementWindow implements WindowBounds {
  /** Where the window starts, run-clock µs (Infinity until scheduled). */
  startUs = Infinity;
  /** Where it ends, run-clock µs (Infinity until scheduled). */
  endUs = Infinity;
  readonly #clock: RunClock;
  readonly #server: ServerProbe | undefined;
  readonly #spinMs: () => number;
  readonly #rss: RssTrack;
  readonly #workers: () => WorkerProbe[];
  #opened: Promise<WindowEdge> | undefined;
  #samples: WindowSamples | undefined;

  /**
   * A window on `clock`, measuring `server` (if any); `spinMs` tells the
   * senders' polling time so far, `rss` takes the server's RSS at the end
   * for its peak, and `workers` names the generator's worker threads.
   */
  constructor(
    clock: RunClock,
    server: ServerProbe | undefined,
    spinMs: () => number,
    rss: RssTrack,
    workers: () => WorkerProbe[] = () => [],
  ) {
    this.#clock = clock;
    this.#server = server;
    this.#spinMs = spinMs;
    this.#rss = rss;
    this.#workers = workers;
  }

  /** Sets the bounds, from `performance.now()` times. */
  schedule(startMs: number, endMs: number): void {
    this.startUs = this.#clock.toUs(startMs);
    this.endUs = this.#clock.toUs(endMs);
  }

  /**
   * Waits until `atMs` (or until `cut` settles: sending ended early),
   * calls `onOpen`, and reads the opening edge.
   */
  open(
    atMs: number,
    cut: Promise<unknown>,
    onOpen?: () => void,
  ): Promise<void> {
    this.#opened = (async () => {
      await sleepUntil(atMs, cut);
      onOpen?.();
      return await sampleEdge(this.#server, this.#spinMs, this.#workers);
    })();
    return this.#opened.then(() => {});
  }

  /** Reads the closing edge (after the opening one). */
  async close(): Promise<void> {
    if (!this.#opened) return;
    const start = await this.#opened;
    const end = await sampleEdge(this.#server, this.#spinMs, this.#workers);
    if (end.server) this.#rss.see(end.server.rssBytes);
    this.#samples = { start, end };
  }

  /** Ends the window earlier, at `endUs` (a line limit ended sending). */
  shrinkTo(endUs: number): void {
    this.endUs = Math.min(this.endUs, endUs);
  }

  /** The readings at both edges, once closed. */
  get samples(): WindowSamples | undefined {
    return this.#samples;
  }

  /**
   * Its length in seconds; NaN while it is not scheduled (a run that
   * failed before sending, whose report then says `null`).
   */
  get seconds(): number {
    return Math.max(0, (this.endUs - this.startUs) / 1e6);
  }
}
