/**
 * The model a fuzz run is checked against: which connections are in the
 * room, and, for each line completed, who must receive it (every other
 * connection in the room at that moment, §2.1, never its sender, §2.2),
 * byte for byte (§2.4), once (§2.3), in its sender's order (§2.6); the
 * bytes after a leaving client's last LF are dropped (§1.6).
 *
 * @module
 */

import { clientName, latin1Bytes, type Step } from "./schedule.ts";

const LF = 0x0a;
const CR = 0x0d;

/**
 * A line the model saw completed.
 *
 * @example
 * ```ts
 * import type { ModelLine } from "./model.ts";
 * const line: ModelLine = { seq: 0, from: "A", bytes: new Uint8Array(), step: 1 };
 * console.log(line.from);
 * ```
 */
export interface ModelLine {
  /** Its place among all the lines completed in the run. */
  seq: number;
  /** The connection that sent it. */
  from: string;
  /** Its content, terminator excluded. */
  bytes: Uint8Array;
  /** The step that completed it (1-based; 0 before the first). */
  step: number;
}

/**
 * One connection of the run: an identity's first one is `A`, its
 * reconnects `A2`, `A3`, …
 *
 * @example
 * ```ts
 * import { Model } from "./model.ts";
 * const model = new Model(["O"]);
 * console.log(model.conn("O")?.open); // true
 * ```
 */
export interface ModelConn {
  /** Its name in traces and evidence. */
  name: string;
  /** The identity (-1 for an observer). */
  client: number;
  /** Lines completed before it joined: `seq` below this. */
  joinedSeq: number;
  /** Lines completed after it left: `seq` from this on. */
  leftSeq?: number;
  /** How it left. */
  how?: "close" | "half-close" | "reset";
  /** What it must receive, in order. */
  expected: ModelLine[];
  /** The lines it sent. */
  sent: ModelLine[];
  /** Bytes sent since its last LF. */
  partial: number[];
  /** Whether it is in the room. */
  open: boolean;
  /** Whether it stopped reading. */
  paused: boolean;
}

/**
 * The protocol's model of one run: apply steps (and the observers' lines)
 * in order; each returns the lines it completed.
 *
 * @example
 * ```ts
 * import { Model } from "./model.ts";
 * const model = new Model(["O"]);
 * model.apply({ do: "join", client: 0, line: "hi" }, 1);
 * console.log(model.conn("O")!.expected.length, model.conn("A")!.expected.length); // 1 0
 * ```
 */
export class Model {
  readonly #conns = new Map<string, ModelConn>();
  /** The current connection of each identity. */
  readonly #current = new Map<number, ModelConn>();
  readonly #joins = new Map<number, number>();
  /** Every line completed, in order. */
  readonly lines: ModelLine[] = [];
  /** Partial lines dropped when their sender left (§1.6). */
  readonly dropped: { from: string; bytes: Uint8Array }[] = [];

  /** Starts with `observers` in the room. */
  constructor(observers: readonly string[]) {
    for (const name of observers) this.#add(name, -1);
  }

  #add(name: string, client: number): ModelConn {
    const conn: ModelConn = {
      name,
      client,
      joinedSeq: this.lines.length,
      expected: [],
      sent: [],
      partial: [],
      open: true,
      paused: false,
    };
    this.#conns.set(name, conn);
    return conn;
  }

  /** Every connection, in the order they joined. */
  get conns(): ModelConn[] {
    return [...this.#conns.values()];
  }

  /** The connection named `name`. */
  conn(name: string): ModelConn | undefined {
    return this.#conns.get(name);
  }

  /** The open connection of identity `client`, if it is in the room. */
  current(client: number): ModelConn | undefined {
    const conn = this.#current.get(client);
    return conn?.open ? conn : undefined;
  }

  /** The name identity `client`'s next connection will have. */
  nextName(client: number): string {
    const n = (this.#joins.get(client) ?? 0) + 1;
    return n === 1 ? clientName(client) : `${clientName(client)}${n}`;
  }

  /** Whether `step` can be done now (a step that cannot is left out). */
  applicable(step: Step): boolean {
    const conn = this.current(step.client);
    if (step.do === "join") return conn === undefined;
    if (conn === undefined) return false;
    if (step.do === "pause") return !conn.paused;
    if (step.do === "resume") return conn.paused;
    return true;
  }

  /** Applies `step` (the `index`-th, 1-based); returns the lines it completed. */
  apply(step: Step, index: number): ModelLine[] {
    if (!this.applicable(step)) {
      throw new Error(`step ${index} does not apply: ${JSON.stringify(step)}`);
    }
    if (step.do === "join") {
      const name = this.nextName(step.client);
      this.#joins.set(step.client, (this.#joins.get(step.client) ?? 0) + 1);
      const conn = this.#add(name, step.client);
      this.#current.set(step.client, conn);
      return this.send(name, latin1Bytes(step.line + "\n"), index);
    }
    const conn = this.current(step.client)!;
    if (step.do === "pause") conn.paused = true;
    if (step.do === "resume") conn.paused = false;
    if (step.do === "send") {
      return this.send(conn.name, latin1Bytes(step.data), index);
    }
    if (step.do === "leave") {
      conn.partial.push(...latin1Bytes(step.tail));
      this.leave(conn.name, step.how);
    }
    return [];
  }

  /** `name` sends `bytes`: the lines they complete go to the room. */
  send(name: string, bytes: Uint8Array, step: number): ModelLine[] {
    const conn = this.#conns.get(name)!;
    const done: ModelLine[] = [];
    for (const b of bytes) {
      if (b !== LF) {
        conn.partial.push(b);
        continue;
      }
      let content = conn.partial;
      conn.partial = [];
      if (content.at(-1) === CR) content = content.slice(0, -1);
      const line: ModelLine = {
        seq: this.lines.length,
        from: name,
        bytes: Uint8Array.from(content),
        step,
      };
      this.lines.push(line);
      conn.sent.push(line);
      for (const other of this.#conns.values()) {
        if (other.open && other !== conn) other.expected.push(line);
      }
      done.push(line);
    }
    return done;
  }

  /** `name` leaves the room; its partial line is dropped. */
  leave(name: string, how: "close" | "half-close" | "reset"): void {
    const conn = this.#conns.get(name)!;
    conn.open = false;
    conn.paused = false;
    conn.how = how;
    conn.leftSeq = this.lines.length;
    if (conn.partial.length > 0) {
      this.dropped.push({ from: name, bytes: Uint8Array.from(conn.partial) });
      conn.partial = [];
    }
  }
}

/**
 * The steps of `steps` that apply, in order: those that do not (a send
 * from a client not in the room, …) are left out, so any list of steps,
 * and any shrunk one, is a valid schedule.
 *
 * @example
 * ```ts
 * import { applicableSteps } from "./model.ts";
 * const steps = applicableSteps([{ do: "pause", client: 0 }, { do: "join", client: 0, line: "" }]);
 * console.log(steps.length); // 1
 * ```
 */
export function applicableSteps(steps: readonly Step[]): Step[] {
  const model = new Model([]);
  const out: Step[] = [];
  for (const step of steps) {
    if (!model.applicable(step)) continue;
    out.push(step);
    model.apply(step, out.length);
  }
  return out;
}
