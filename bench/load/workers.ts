/**
 * The generator on several threads (`--workers N`): one Deno worker per
 * shard of the clients (see `shard.ts`), and a {@linkcode StatusBoard}
 * in a `SharedArrayBuffer` through which they and the main thread see
 * each other without messages.
 *
 * The board holds the phase (written by the main thread), each worker's
 * live counts (written every {@linkcode PUBLISH_INTERVAL_MS} by the
 * worker: the join, the drain and the progress line read them), each
 * worker's deliveries per sender, which its receivers count in place
 * (the closed loop's senders, wherever they are, add up every worker's
 * row for their own sender), and a delivery generation every worker bumps
 * after each read, which waiting senders wait on (`Atomics.waitAsync`;
 * it is notified only while one waits). Everything else is a message with a reply (a ramp
 * step, probes, the window, sending, the results), a few per run.
 *
 * Each worker reads its OS thread id from `/proc/thread-self` when it
 * starts, so that the main thread can read its CPU time from
 * `/proc/self/task/<tid>/stat` at the window's edges.
 *
 * @module
 */

import type { LoadPhase } from "./options.ts";
import type {
  ConnectStep,
  SendPlan,
  ShardConfig,
  ShardHandle,
  ShardResult,
  ShardStatus,
} from "./shard.ts";
import type { StepResult } from "./ramp.ts";

/**
 * How often a worker copies its live counts to the board, ms.
 *
 * @example
 * ```ts
 * import { PUBLISH_INTERVAL_MS } from "./workers.ts";
 * console.log(PUBLISH_INTERVAL_MS); // 2
 * ```
 */
export const PUBLISH_INTERVAL_MS = 2;

/**
 * Longest a waiting closed-loop sender in a worker waits before it looks
 * at the other workers' deliveries again, ms (a new delivery generation
 * wakes it sooner).
 *
 * @example
 * ```ts
 * import { CLOSED_LOOP_POLL_MS } from "./workers.ts";
 * console.log(CLOSED_LOOP_POLL_MS); // 1
 * ```
 */
export const CLOSED_LOOP_POLL_MS = 1;

const PHASES: readonly LoadPhase[] = [
  "ramp",
  "join",
  "warmup",
  "run",
  "drain",
  "close",
];

const STATUS_FIELDS = [
  "connected",
  "receivers",
  "joined",
  "gone",
  "delivered",
  "linesSent",
  "lastProbeEpochMs",
  "spinMs",
  "lastDeliveryUs",
  "p99Ms",
] as const satisfies readonly (keyof BoardStatus)[];

/** A worker's live counts, and its p99 so far (refreshed once a second). */
export interface BoardStatus extends ShardStatus {
  p99Ms: number;
}

/**
 * The shared counts of a run's workers: the phase, each worker's live
 * counts, and each worker's deliveries per sender.
 *
 * @example
 * ```ts
 * import { StatusBoard } from "./workers.ts";
 * const board = new StatusBoard(2, 3);
 * board.phase = "run";
 * board.bySender(1)[2] = 5;
 * board.bySender(0)[2] = 4;
 * console.log(StatusBoard.attach(board.buffer, 2, 3).phase, board.delivered(2)); // "run" 9
 * ```
 */
export class StatusBoard {
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
  readonly #control: Int32Array;
  readonly #status: Float64Array;
  readonly #rows: Float64Array[];
  readonly #senders: number;

  /** A board for `workers` workers and `senders` senders. */
  constructor(
    workers: number,
    senders: number,
    buffer?: SharedArrayBuffer,
  ) {
    const statusBytes = workers * STATUS_FIELDS.length * 8;
    this.buffer = buffer ??
      new SharedArrayBuffer(16 + statusBytes + workers * senders * 8);
    // [phase, delivery generation, senders waiting]
    this.#control = new Int32Array(this.buffer, 0, 4);
    this.#status = new Float64Array(
      this.buffer,
      16,
      workers * STATUS_FIELDS.length,
    );
    this.#rows = Array.from(
      { length: workers },
      (_, w) =>
        new Float64Array(
          this.buffer,
          16 + statusBytes + w * senders * 8,
          senders,
        ),
    );
    this.#senders = senders;
  }

  /** The same board, in another thread. */
  static attach(
    buffer: SharedArrayBuffer,
    workers: number,
    senders: number,
  ): StatusBoard {
    return new StatusBoard(workers, senders, buffer);
  }

  /** The run's phase. */
  get phase(): LoadPhase {
    return PHASES[Atomics.load(this.#control, 0)];
  }

  set phase(phase: LoadPhase) {
    Atomics.store(this.#control, 0, PHASES.indexOf(phase));
  }

  /** Worker `w`'s deliveries per sender (its receivers count into it). */
  bySender(w: number): Float64Array {
    return this.#rows[w];
  }

  /**
   * Says that deliveries were counted (after each read): wakes the
   * senders of every worker that wait for them, if any do.
   */
  deliveriesCounted(): void {
    Atomics.add(this.#control, 1, 1);
    if (Atomics.load(this.#control, 2) > 0) Atomics.notify(this.#control, 1);
  }

  /**
   * Resolves when deliveries are next counted in any worker, or after
   * `timeoutMs`.
   */
  async deliveries(timeoutMs: number): Promise<void> {
    const generation = Atomics.load(this.#control, 1);
    Atomics.add(this.#control, 2, 1);
    try {
      const wait = Atomics.waitAsync(this.#control, 1, generation, timeoutMs);
      if (wait.async) await wait.value;
    } finally {
      Atomics.sub(this.#control, 2, 1);
    }
  }

  /** Deliveries of sender `sender`'s lines, all workers together. */
  delivered(sender: number): number {
    let total = 0;
    for (const row of this.#rows) total += row[sender];
    return total;
  }

  /** Worker `w`'s live counts, as it last published them. */
  status(w: number): BoardStatus {
    const base = w * STATUS_FIELDS.length;
    const status = {} as BoardStatus;
    STATUS_FIELDS.forEach((field, i) => {
      status[field] = this.#status[base + i];
    });
    return status;
  }

  /** Publishes worker `w`'s live counts. */
  publish(w: number, status: BoardStatus): void {
    const base = w * STATUS_FIELDS.length;
    STATUS_FIELDS.forEach((field, i) => {
      this.#status[base + i] = status[field];
    });
  }

  /** Senders per row. */
  get senders(): number {
    return this.#senders;
  }
}

/** A message to a worker. */
export type WorkerRequest =
  | {
    type: "init";
    config: ShardConfig;
    buffer: SharedArrayBuffer;
    workers: number;
  }
  | { type: "call"; id: number; method: ShardMethod; args: unknown[] };

/** A worker's reply. */
export type WorkerReply =
  | { type: "ready"; tid: number | undefined }
  | { type: "reply"; id: number; value?: unknown; error?: string };

/** What the main thread may ask of a worker's shard. */
export type ShardMethod =
  | "connect"
  | "probe"
  | "nudge"
  | "setWindow"
  | "send"
  | "finish";

/**
 * A shard in a worker of its own, driven by messages.
 *
 * @example
 * ```ts ignore
 * import { StatusBoard, WorkerShard } from "./workers.ts";
 * const board = new StatusBoard(2, config.senders);
 * const shards = await Promise.all([0, 1].map((index) => WorkerShard.start({ ...config, index, count: 2 }, board)));
 * ```
 */
export class WorkerShard implements ShardHandle {
  readonly tid: number | undefined;
  readonly #worker: Worker;
  readonly #board: StatusBoard;
  readonly #index: number;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #nextId = 0;
  #failure: Error | undefined;

  private constructor(
    worker: Worker,
    board: StatusBoard,
    index: number,
    tid: number | undefined,
  ) {
    this.#worker = worker;
    this.#board = board;
    this.#index = index;
    this.tid = tid;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type !== "reply") return;
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.error !== undefined) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply.value);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`worker ${index}: ${event.message}`));
    };
  }

  /** Starts a worker for shard `config.index` and waits until it is ready. */
  static start(config: ShardConfig, board: StatusBoard): Promise<WorkerShard> {
    const worker = new Worker(
      new URL("./_shard_worker.ts", import.meta.url),
      { type: "module", name: `load-${config.index}` },
    );
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        if (event.data.type !== "ready") return;
        resolve(new WorkerShard(worker, board, config.index, event.data.tid));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(`worker ${config.index}: ${event.message}`));
      };
      worker.postMessage(
        {
          type: "init",
          config,
          buffer: board.buffer,
          workers: config.count,
        } satisfies WorkerRequest,
      );
    });
  }

  status(): ShardStatus {
    return this.#board.status(this.#index);
  }

  p99Ms(): number {
    return this.#board.status(this.#index).p99Ms;
  }

  connect(step: ConnectStep): Promise<StepResult> {
    return this.#call("connect", step) as Promise<StepResult>;
  }

  async probe(clients: readonly number[]): Promise<void> {
    await this.#call("probe", clients);
  }

  async nudge(max: number): Promise<void> {
    await this.#call("nudge", max);
  }

  async setWindow(startUs: number, endUs: number): Promise<void> {
    await this.#call("setWindow", startUs, endUs);
  }

  async send(plan: SendPlan): Promise<void> {
    await this.#call("send", plan);
  }

  finish(): Promise<ShardResult> {
    return this.#call("finish") as Promise<ShardResult>;
  }

  close(): void {
    this.#worker.terminate();
    this.#fail(new Error(`worker ${this.#index} was stopped`));
  }

  #call(method: ShardMethod, ...args: unknown[]): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(
        { type: "call", id, method, args } satisfies WorkerRequest,
      );
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
