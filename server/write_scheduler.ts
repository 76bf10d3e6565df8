/**
 * Where clients' writes are started: in slices, so one event-loop turn
 * never starts more than a bounded number of them.
 *
 * Why: Deno settles every write op that one turn starts in the next turn,
 * and its cost per op grows with how many are in flight together. One line
 * to 10,000 clients started as 10,000 writes in one turn cost the server
 * about 430 ms of CPU; started 128 per turn, 130 to 180 ms (the idle
 * workload of `deno task compare` sends exactly that; see the README).
 *
 * @module
 */

/** Writes started per event-loop turn, by default. */
export const WRITES_PER_TURN = 128;

/** Something with output to write: a client connection. */
export interface Writer {
  /**
   * Starts writing what is queued and returns that write (it settles once
   * the bytes are handed to the kernel or the write failed), or returns
   * `null` when nothing was left to write.
   */
  writeNext(): Promise<unknown> | null;
}

/**
 * A FIFO of writers with output, drained in slices of `writesPerTurn`.
 *
 * A fan-out marks each recipient ready; the first mark of a turn queues one
 * microtask (not one per recipient), which starts a slice of writes. When
 * more writers wait, the next slice starts after the event loop has turned,
 * which the first settled write of the slice shows (a timer covers a slice
 * whose sockets are all full).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { WriteScheduler } from "./write_scheduler.ts";
 *
 * const started: number[] = [];
 * const scheduler = new WriteScheduler({ writesPerTurn: 2 });
 * for (const id of [1, 2, 3]) {
 *   scheduler.add({ writeNext: () => (started.push(id), Promise.resolve()) });
 * }
 * await scheduler.idle();
 * deepEqual(started, [1, 2, 3]);
 * ```
 */
export class WriteScheduler {
  readonly #writesPerTurn: number;
  #ready: Writer[] = [];
  #next = 0;
  #running = false;
  #idle: (() => void)[] = [];
  /** Writers that asked to wait for the next flush (see `addLater`). */
  #later: Writer[] = [];
  #laterTimer: ReturnType<typeof setTimeout> | undefined;

  /** Makes a scheduler; `writesPerTurn` defaults to {@linkcode WRITES_PER_TURN}. */
  constructor(options: { writesPerTurn?: number } = {}) {
    this.#writesPerTurn = options.writesPerTurn ?? WRITES_PER_TURN;
  }

  /**
   * Queues `writer` to start its next write after `delayMs` (one timer for
   * every writer waiting): a client that received more while its last
   * write was out gathers what comes meanwhile into one write.
   */
  addLater(writer: Writer, delayMs: number): void {
    this.#later.push(writer);
    this.#laterTimer ??= setTimeout(this.#flushLater, delayMs);
  }

  #flushLater = (): void => {
    this.#laterTimer = undefined;
    const later = this.#later;
    this.#later = [];
    for (const writer of later) this.add(writer);
  };

  /** Writers waiting for their slice. */
  get waiting(): number {
    return this.#ready.length - this.#next;
  }

  /** Queues `writer`; call once until its write settles. */
  add(writer: Writer): void {
    this.#ready.push(writer);
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(this.#run);
    }
  }

  /** Resolves once no writer waits (for tests). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #run = (): void => {
    const ready = this.#ready;
    const started: Promise<unknown>[] = [];
    while (this.#next < ready.length && started.length < this.#writesPerTurn) {
      const write = ready[this.#next++].writeNext();
      if (write !== null) started.push(write);
    }
    if (this.#next === ready.length) {
      this.#ready = [];
      this.#next = 0;
      this.#running = false;
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    if (this.#next > 1024 && this.#next * 2 > ready.length) {
      this.#ready = ready.slice(this.#next);
      this.#next = 0;
    }
    afterTurn(started).then(this.#run);
  };
}

/** Settles once one of `writes` has, or after 1 ms, whichever is first. */
function afterTurn(writes: Promise<unknown>[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fallback = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 1);
  });
  const done = () => clearTimeout(timer);
  return Promise.race([...writes, fallback]).then(done, done);
}
