/**
 * The log's way out: a bounded buffer in front of an asynchronous writer, so
 * that a stdout nobody reads (a paused pager, Ctrl-S, a stuck log shipper)
 * costs the server dropped log lines, never a frozen event loop.
 * `console.log` writes synchronously and blocks the whole process on a full
 * pipe; `await Deno.stdout.write` waits without blocking anything else.
 *
 * Private to the server: `Logger` in `logger.ts` is the public face.
 *
 * @module
 */

/** Where a logger writes its buffered bytes; `Deno.stdout` is one. */
export interface LogSink {
  /** Writes some prefix of `bytes`, resolving with its length. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for {@linkcode LogOutput}. */
export interface LogOutputOptions {
  /**
   * Where the bytes go.
   *
   * @default {Deno.stdout}
   */
  sink?: LogSink;
  /**
   * The most bytes held waiting for the sink, in-flight write included. The
   * buffer is allocated once, at this size, with the first line; a line that
   * does not fit in what is free is refused whole.
   *
   * @default {262144}
   */
  maxBufferBytes?: number;
}

/** The default of {@linkcode LogOutputOptions.maxBufferBytes}: 256 KiB. */
export const DEFAULT_MAX_LOG_BUFFER_BYTES = 256 * 1024;

const encoder = new TextEncoder();

/**
 * Queues whole lines into a fixed ring buffer and writes them out with one
 * write in flight at a time, handling partial writes.
 *
 * @example
 * ```ts
 * import { LogOutput } from "./_log_output.ts";
 * const chunks: Uint8Array[] = [];
 * const output = new LogOutput({
 *   sink: { write: (bytes) => (chunks.push(bytes.slice()), Promise.resolve(bytes.length)) },
 *   maxBufferBytes: 16,
 * });
 * console.log(output.push("hello")); // true
 * console.log(output.push("far too long for sixteen bytes")); // false
 * console.log(await output.flush(1000)); // true
 * console.log(new TextDecoder().decode(chunks[0])); // "hello\n"
 * ```
 */
export class LogOutput {
  readonly #sink: LogSink;
  readonly #capacity: number;
  // A ring: `#size` bytes from `#head` on (wrapping) wait for the sink.
  // Bytes are never moved while held, because an in-flight write may still
  // be reading them.
  #buffer: Uint8Array | undefined;
  #head = 0;
  #size = 0;
  #writing = false;
  #failed = false;
  #drained: ((written: boolean) => void)[] = [];

  /** Creates an output; see {@linkcode LogOutputOptions}. */
  constructor(options: LogOutputOptions = {}) {
    this.#sink = options.sink ?? Deno.stdout;
    this.#capacity = options.maxBufferBytes ?? DEFAULT_MAX_LOG_BUFFER_BYTES;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new RangeError("maxBufferBytes must be a positive integer");
    }
  }

  /** Bytes held now, waiting for the sink or being written. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** Bytes the buffer occupies in memory: 0 until the first line. */
  get heldBytes(): number {
    return this.#buffer?.byteLength ?? 0;
  }

  /**
   * Queues `line` and a newline, whole, and returns true; returns false,
   * holding nothing of it, when it does not fit or the sink has failed.
   */
  push(line: string): boolean {
    if (this.#failed) return false;
    // Every UTF-16 code unit takes at least one byte of UTF-8, so a line
    // this long cannot fit: refuse it without encoding it.
    const free = this.#capacity - this.#size;
    if (line.length + 1 > free) return false;
    const bytes = encoder.encode(line + "\n");
    if (bytes.length > free) return false;
    this.#buffer ??= new Uint8Array(this.#capacity);
    const tail = (this.#head + this.#size) % this.#capacity;
    const first = Math.min(bytes.length, this.#capacity - tail);
    this.#buffer.set(bytes.subarray(0, first), tail);
    this.#buffer.set(bytes.subarray(first), 0);
    this.#size += bytes.length;
    if (!this.#writing) this.#pump();
    return true;
  }

  /**
   * Resolves true once everything queued is written, or false if
   * `timeoutMs` passes first or the sink has failed.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.#failed) return Promise.resolve(false);
    if (this.#size === 0) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    // Registered before the timer exists: under `deno test`, setTimeout
    // itself may run microtasks, and with them the end of the drain.
    this.#drained.push(resolve);
    const timer = setTimeout(() => {
      this.#drained = this.#drained.filter((waiter) => waiter !== resolve);
      resolve(false);
    }, timeoutMs);
    return promise.finally(() => clearTimeout(timer));
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#size > 0) {
        // Up to the end of the ring; what wrapped goes in the next write.
        const end = Math.min(this.#head + this.#size, this.#capacity);
        const written = await this.#sink.write(
          this.#buffer!.subarray(this.#head, end),
        );
        this.#head = (this.#head + written) % this.#capacity;
        this.#size -= written;
      }
    } catch {
      // Nowhere left to log to, not even the log: stop and hold nothing.
      // (Reported through `push` refusing, which the logger counts.)
      this.#failed = true;
      this.#size = 0;
      this.#buffer = undefined;
    } finally {
      this.#writing = false;
    }
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve(!this.#failed);
  }
}
