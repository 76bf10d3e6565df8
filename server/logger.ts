/**
 * The server's event log: one line per event, as text or JSON.
 *
 * @module
 */

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
   * Silences per-connection events (`connect`, `disconnect`, `reject`);
   * start-up, errors and the shutdown summary are still written.
   *
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Where lines go.
   *
   * @default {(line) => console.log(line)}
   */
  write?: (line: string) => void;
}

const CONNECTION_EVENTS = new Set(["connect", "disconnect", "reject"]);

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
  readonly #write: (line: string) => void;

  /** Creates a logger; see {@linkcode LoggerOptions}. */
  constructor(options: LoggerOptions = {}) {
    this.#format = options.format ?? "text";
    this.#quiet = options.quiet ?? false;
    this.#write = options.write ?? ((line) => console.log(line));
  }

  /** Logs `event` with `fields`, unless it is a connection event and quiet. */
  event(event: string, fields: LogFields = {}): void {
    if (this.#quiet && CONNECTION_EVENTS.has(event)) return;
    const ts = new Date().toISOString();
    if (this.#format === "json") {
      this.#write(JSON.stringify({ ts, event, ...fields }));
      return;
    }
    let line = `${ts} ${event}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    this.#write(line);
  }
}
