/**
 * The server's event log: one line per event, as text or JSON.
 *
 * Logging never blocks the server. Lines go to stdout through a bounded
 * buffer with one asynchronous write in flight; when stdout is not read (a
 * paused pager, a stuck log shipper) and the buffer is full, lines are
 * dropped whole and counted, and the next line that gets through says how
 * many (`log_dropped=N`). Events that can come in floods (`accept-error`,
 * `reject`) are logged through {@linkcode Logger.repeated}, which writes at
 * most the first of each second and a count of the rest.
 *
 * @module
 */

import {
  DEFAULT_MAX_LOG_BUFFER_BYTES,
  LogOutput,
  type LogSink,
} from "./_log_output.ts";

export type { LogSink };

/** Field values a log event may carry. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /**
   * `"text"`: `2026-01-01T00:00:00.000Z connect id=1 addr=…`;
   * `"json"`: one JSON object per line with `ts` and `event` fields.
   *
   * @default {"text"}
   */
  format?: "text" | "json";
  /**
   * Silences per-connection events (`connect`, `disconnect`, `reject`,
   * `accept-error`, and the `-summary` lines of the last two); start-up,
   * errors, warnings and the shutdown summary are still written.
   *
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Where lines go, one call per line (no newline), synchronously and
   * unbuffered: nothing is dropped, and `sink` and `maxBufferBytes` are not
   * used. Without it, lines go to `sink` through the bounded buffer.
   *
   * @default {undefined}
   */
  write?: (line: string) => void;
  /**
   * Where buffered lines are written (when `write` is not given), one write
   * in flight at a time.
   *
   * @default {Deno.stdout}
   */
  sink?: LogSink;
  /**
   * The most bytes of log held waiting for `sink` (allocated once, with the
   * first line). A line that does not fit is dropped whole and counted in
   * {@linkcode Logger.dropped} and in the next line's `log_dropped` field.
   *
   * @default {262144}
   */
  maxBufferBytes?: number;
  /**
   * The window of {@linkcode Logger.repeated}, per event name.
   *
   * @default {1000}
   */
  repeatWindowMs?: number;
}

/** Events `quiet` silences, with the summaries of the repeated ones. */
const CONNECTION_EVENTS = new Set([
  "connect",
  "disconnect",
  "reject",
  "accept-error",
  "http-refused",
  "reject-summary",
  "accept-error-summary",
  "http-refused-summary",
]);

/** An open window of {@linkcode Logger.repeated}, for one event name. */
interface RepeatWindow {
  /** `performance.now()` at the occurrence that opened it, the one written. */
  started: number;
  /** Occurrences after that one, counted instead of written. */
  count: number;
  /** Set once `count` is non-zero: the window's end, to write the summary. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Writes structured events as single lines.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = new Logger({ format: "json", write: (l) => lines.push(l) });
 * log.event("connect", { id: 1, addr: "127.0.0.1:5000" });
 * console.log(JSON.parse(lines[0]).event); // "connect"
 * ```
 */
export class Logger {
  readonly #format: "text" | "json";
  readonly #quiet: boolean;
  readonly #write: ((line: string) => void) | undefined;
  readonly #output: LogOutput | undefined;
  readonly #repeatWindowMs: number;
  readonly #windows = new Map<string, RepeatWindow>();
  #dropped = 0;
  #droppedSinceWritten = 0;

  /** Creates a logger; see {@linkcode LoggerOptions}. */
  constructor(options: LoggerOptions = {}) {
    this.#format = options.format ?? "text";
    this.#quiet = options.quiet ?? false;
    this.#write = options.write;
    this.#output = this.#write === undefined
      ? new LogOutput({
        sink: options.sink,
        maxBufferBytes: options.maxBufferBytes ?? DEFAULT_MAX_LOG_BUFFER_BYTES,
      })
      : undefined;
    this.#repeatWindowMs = options.repeatWindowMs ?? 1000;
  }

  /**
   * Lines dropped so far because the buffer was full (or stdout failed).
   *
   * @example
   * ```ts
   * import { Logger } from "./logger.ts";
   * const log = new Logger({ write: () => {} });
   * console.log(log.dropped); // 0: a custom `write` never drops
   * ```
   */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Logs `event` with `fields`, unless it is a connection event and quiet.
   *
   * @example
   * ```ts
   * import { Logger } from "./logger.ts";
   * const lines: string[] = [];
   * const log = new Logger({ write: (l) => lines.push(l) });
   * log.event("connect", { id: 1, addr: "127.0.0.1:5000", clients: 1 });
   * console.log(lines[0].slice(25)); // "connect id=1 addr=127.0.0.1:5000 clients=1"
   * ```
   */
  event(event: string, fields: LogFields = {}): void {
    if (this.#quiet && CONNECTION_EVENTS.has(event)) return;
    const line = this.#format === "json"
      ? this.#json(event, fields)
      : this.#text(event, fields);
    if (this.#write !== undefined) {
      this.#write(line);
    } else if (this.#output!.push(line)) {
      this.#droppedSinceWritten = 0;
    } else {
      this.#dropped++;
      this.#droppedSinceWritten++;
    }
  }

  /**
   * Logs an event that may come in floods: the first occurrence of `event`
   * is written as by {@linkcode Logger.event} and opens a window of
   * `repeatWindowMs`; later ones in the window are only counted. If any
   * were, the window's end writes one summary event, `<event>-summary`, with
   * `count` (occurrences after the first, not written one by one) and
   * `window_ms` (the window's length):
   *
   * ```text
   * 2026-01-01T00:00:01.000Z accept-error-summary count=312 window_ms=1000
   * {"ts":"2026-01-01T00:00:01.000Z","event":"accept-error-summary","count":312,"window_ms":1000}
   * ```
   *
   * The next occurrence after a window opens a new one. The window's timer
   * exists only while a summary is owed and does not keep the process alive;
   * {@linkcode Logger.flush} writes owed summaries at once (`window_ms` is
   * then the time so far).
   *
   * @example
   * ```ts
   * import { Logger } from "./logger.ts";
   * const lines: string[] = [];
   * const log = new Logger({ write: (l) => lines.push(l) });
   * for (let i = 0; i < 5; i++) log.repeated("reject", { reason: "server-full" });
   * console.log(lines.length); // 1
   * await log.flush(1000);
   * console.log(lines[1].includes("reject-summary count=4")); // true
   * ```
   */
  repeated(event: string, fields: LogFields = {}): void {
    if (this.#quiet && CONNECTION_EVENTS.has(event)) return;
    const now = performance.now();
    const window = this.#windows.get(event);
    // A window with nothing counted has no timer; it ends by being stale.
    if (
      window === undefined ||
      (window.timer === undefined &&
        now - window.started >= this.#repeatWindowMs)
    ) {
      this.#windows.set(event, { started: now, count: 0, timer: undefined });
      this.event(event, fields);
      return;
    }
    window.count++;
    if (window.timer === undefined) {
      const timer = setTimeout(
        () => this.#endWindow(event, this.#repeatWindowMs),
        Math.max(0, window.started + this.#repeatWindowMs - now),
      );
      // An owed summary is not worth keeping a stopping process alive.
      Deno.unrefTimer(timer);
      window.timer = timer;
    }
  }

  /**
   * Writes the summaries {@linkcode Logger.repeated} owes, then resolves
   * true once every buffered line is written, or false if `timeoutMs`
   * passes first (stdout not read) or stdout failed. With a custom `write`
   * nothing is buffered, so it resolves true at once. It never rejects.
   *
   * @example
   * ```ts
   * import { Logger } from "./logger.ts";
   * const log = new Logger({ write: () => {} });
   * console.log(await log.flush(1000)); // true
   * ```
   */
  flush(timeoutMs: number): Promise<boolean> {
    const now = performance.now();
    for (const [event, window] of this.#windows) {
      if (window.timer !== undefined) {
        this.#endWindow(event, Math.round(now - window.started));
      }
    }
    return this.#output?.flush(timeoutMs) ?? Promise.resolve(true);
  }

  #endWindow(event: string, windowMs: number): void {
    const window = this.#windows.get(event)!;
    clearTimeout(window.timer);
    this.#windows.delete(event);
    this.event(`${event}-summary`, {
      count: window.count,
      window_ms: windowMs,
    });
  }

  #json(event: string, fields: LogFields): string {
    const ts = new Date().toISOString();
    return JSON.stringify(
      this.#droppedSinceWritten === 0
        ? { ts, event, ...fields }
        : { ts, event, ...fields, log_dropped: this.#droppedSinceWritten },
    );
  }

  #text(event: string, fields: LogFields): string {
    let line = `${new Date().toISOString()} ${event}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    if (this.#droppedSinceWritten > 0) {
      line += ` log_dropped=${this.#droppedSinceWritten}`;
    }
    return line;
  }
}
