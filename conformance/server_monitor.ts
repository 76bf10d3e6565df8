/**
 * The spawned server as a case sees it (`--spawn` only): measurements of
 * its process group from `/proc`, signals, and whether its exit is a
 * crash. The process itself is `lib/server_process.ts`'s.
 *
 * @module
 */

import type { GroupSample } from "../lib/proc_stats.ts";
import type { ServerProcess } from "../lib/server_process.ts";

/**
 * Peak and last samples taken while some work ran.
 *
 * @example
 * ```ts
 * import type { SampledRun } from "./server_monitor.ts";
 * const run: SampledRun<number> = { result: 1, peakRssBytes: 50e6, peakFds: 12, samples: 3 };
 * console.log(run.samples);
 * ```
 */
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The spawned server as a case sees it: measurements and signals. Only
 * present with `--spawn`.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "../lib/server_process.ts";
 * import { ServerMonitor } from "./server_monitor.ts";
 *
 * const server = await startServer({ command: "deno run -A server/main.ts --port {port} --quiet" });
 * const monitor = new ServerMonitor(server);
 * console.log((await monitor.sample())?.rssBytes);
 * monitor.expectExit();
 * monitor.signal("SIGTERM");
 * console.log(await monitor.waitExit(5000));
 * ```
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

  /** Whether the server is running. */
  get alive(): boolean {
    return this.#process.alive;
  }

  /** One sample of memory and open files; `null` if the server is gone. */
  sample(): Promise<GroupSample | null> {
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
        await sleep(intervalMs);
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
    accept: (sample: GroupSample) => boolean,
    timeoutMs: number,
  ): Promise<GroupSample | null> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const last = await this.#process.sample();
      if (last === null || accept(last) || performance.now() > deadline) {
        return last;
      }
      await sleep(50);
    }
  }

  /** Sends a signal to the server (not to the shell that started it). */
  signal(signal: Deno.Signal): void {
    this.#process.signal(signal);
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
}
