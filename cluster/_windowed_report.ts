// A log event for losses that can come in floods (a gap in every message
// while a backlog overflows, late batches after a stall): the first is
// logged at once, then at most one line per window with what added up
// meanwhile, so the log shows every loss without one line per message.
// Not re-exported.

import type { LogFields, Logger } from "../server/logger.ts";

/** One event's report: counts summed, and maxima, over a window. */
export class WindowedReport {
  readonly #logger: Logger;
  readonly #event: string;
  readonly #fields: LogFields;
  readonly #windowMs: number;
  #sums: Record<string, number> = {};
  #maxes: Record<string, number> = {};
  #pending = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `fields` go on every line (who reports, what it means). */
  constructor(
    logger: Logger,
    event: string,
    fields: LogFields,
    windowMs = 1000,
  ) {
    this.#logger = logger;
    this.#event = event;
    this.#fields = fields;
    this.#windowMs = windowMs;
  }

  /** Adds a loss: `sums` are added up, `maxes` keep their largest. */
  add(sums: Record<string, number>, maxes: Record<string, number> = {}): void {
    for (const [key, value] of Object.entries(sums)) {
      this.#sums[key] = (this.#sums[key] ?? 0) + value;
    }
    for (const [key, value] of Object.entries(maxes)) {
      this.#maxes[key] = Math.max(this.#maxes[key] ?? -Infinity, value);
    }
    this.#pending = true;
    if (this.#timer === undefined) this.#write();
  }

  /** Logs what is pending now and stops the window's timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending) this.#write(false);
  }

  #write(openWindow = true): void {
    const fields: LogFields = { ...this.#fields };
    for (const [key, value] of Object.entries(this.#sums)) fields[key] = value;
    for (const [key, value] of Object.entries(this.#maxes)) {
      fields[key] = Math.round(value);
    }
    this.#sums = {};
    this.#maxes = {};
    this.#pending = false;
    this.#logger.event(this.#event, fields);
    if (!openWindow) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#pending) this.#write();
    }, this.#windowMs);
    // A report owed must not keep a stopping process alive.
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
