/**
 * Judging one connection of a fuzz run: what it received against what
 * the model says it must receive, each difference named after the clause
 * it breaks (an echo §2.2, a line from before it joined §2.9 or after it
 * left §2.10, a partial line §1.6, a piece of a line §1.4, lines merged
 * §2.7, other bytes §2.4, a duplicate §2.3, a sender's order §2.6, a line
 * never received §2.1).
 *
 * @module
 */

import { bytesEqual } from "../bytes.ts";
import { escapeBytes } from "../escape.ts";
import type { FuzzLine } from "./fuzz_client.ts";
import type { Model, ModelConn, ModelLine } from "./model.ts";

/**
 * A difference between the model and what a client received.
 *
 * @example
 * ```ts
 * import type { Mismatch } from "./judge.ts";
 * const mismatch: Mismatch = { clause: "§2.2", client: "A", message: "A received its own line back" };
 * console.log(mismatch.clause);
 * ```
 */
export interface Mismatch {
  /** The clause it breaks. */
  clause: string;
  /** The client it was seen at. */
  client: string;
  /** One line saying what happened. */
  message: string;
  /** What the client should have received (escaped). */
  expected?: string[];
  /** What it received (escaped). */
  received?: string[];
}

/**
 * How serious each clause's mismatch is as a headline: a crash first, an
 * unexplained loss last (it often follows from one of the others).
 *
 * @example
 * ```ts
 * import { CLAUSE_RANK } from "./judge.ts";
 * console.log(CLAUSE_RANK.indexOf("§5.2")); // 0
 * ```
 */
export const CLAUSE_RANK = [
  "§5.2",
  "§3.2",
  "§1.6",
  "§2.2",
  "§2.9",
  "§2.10",
  "§1.4",
  "§2.7",
  "§2.4",
  "§2.3",
  "§2.6",
  "§2.1",
];

function show(bytes: Uint8Array): string {
  return `"${escapeBytes(bytes, { maxBytes: 60 })}"`;
}

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Why a received line that matches nothing expected is there. */
function explainExtra(
  model: Model,
  conn: ModelConn,
  line: FuzzLine,
): Omit<Mismatch, "client" | "expected" | "received"> | undefined {
  const who = conn.name;
  const same = (l: ModelLine) => bytesEqual(l.bytes, line.bytes);
  const raw = line.terminator === "none" ? " (with no LF)" : "";
  if (conn.sent.some(same)) {
    return {
      clause: "§2.2",
      message: `${who} received its own line ${show(line.bytes)} back`,
    };
  }
  const early = model.lines.find((l) => same(l) && l.seq < conn.joinedSeq);
  if (early && !model.lines.some((l) => same(l) && l.seq >= conn.joinedSeq)) {
    return {
      clause: "§2.9",
      message: `${who} received ${early.from}'s line ${
        show(line.bytes)
      }, completed before it joined (step ${early.step})`,
    };
  }
  const late = model.lines.find((l) =>
    same(l) && conn.leftSeq !== undefined && l.seq >= conn.leftSeq
  );
  if (late) {
    return {
      clause: "§2.10",
      message: `${who} received ${late.from}'s line ${
        show(line.bytes)
      }, completed after it ${
        conn.how === "half-close" ? "half-closed" : "left"
      } (step ${late.step})`,
    };
  }
  const partial = model.dropped.find((d) =>
    d.bytes.length > 0 && includes(line.bytes, d.bytes)
  );
  if (partial) {
    return {
      clause: "§1.6",
      message: `${who} received ${show(line.bytes)}${raw}: it holds ${
        show(partial.bytes)
      }, the partial line ${partial.from} left with`,
    };
  }
  if (model.lines.some(same)) return undefined;
  const whole = model.lines.find((l) =>
    l.bytes.length > line.bytes.length && includes(l.bytes, line.bytes)
  );
  if (whole && line.bytes.length > 0) {
    return {
      clause: "§1.4",
      message: `${who} received ${
        show(line.bytes)
      }${raw}, a piece of ${whole.from}'s line ${show(whole.bytes)}`,
    };
  }
  const inside = model.lines.filter((l) =>
    l.bytes.length > 0 && l.bytes.length < line.bytes.length &&
    includes(line.bytes, l.bytes)
  );
  if (inside.length > 0) {
    return {
      clause: "§2.7",
      message: `${who} received ${show(line.bytes)}${raw}, ${
        inside[0].from
      }'s line ${show(inside[0].bytes)} merged with other bytes`,
    };
  }
  return undefined;
}

/**
 * The mismatches of connection `conn`: `received` against its expected
 * lines in `model`; every expected line not received is reported lost.
 *
 * @example
 * ```ts
 * import { judgeConnection } from "./judge.ts";
 * import { Model } from "./model.ts";
 * const model = new Model(["O"]);
 * model.apply({ do: "join", client: 0, line: "hi" }, 1);
 * const echo = [{ bytes: new TextEncoder().encode("hi"), terminator: "crlf" as const }];
 * console.log(judgeConnection(model, model.conn("A")!, echo)[0].clause); // "§2.2"
 * ```
 */
export function judgeConnection(
  model: Model,
  conn: ModelConn,
  received: readonly FuzzLine[],
): Mismatch[] {
  const expected = conn.expected;
  const used = new Array<boolean>(expected.length).fill(false);
  const matched: number[] = [];
  const extras: FuzzLine[] = [];
  for (const line of received) {
    const i = line.terminator === "none"
      ? -1
      : expected.findIndex((e, k) =>
        !used[k] && bytesEqual(e.bytes, line.bytes)
      );
    if (i === -1) {
      extras.push(line);
      continue;
    }
    used[i] = true;
    matched.push(i);
  }
  const out: Mismatch[] = [];
  const evidence = {
    expected: expected.map((l) => escapeBytes(l.bytes)),
    received: received.map((l) => escapeBytes(l.bytes)),
  };
  const add = (m: Omit<Mismatch, "client" | "expected" | "received">) =>
    out.push({ ...m, client: conn.name, ...evidence });
  const missing = expected.filter((_, k) => !used[k]);
  for (const line of extras) {
    const why = explainExtra(model, conn, line);
    if (why) {
      add(why);
    } else if (line.terminator === "none") {
      add({
        clause: "§2.4",
        message: `${conn.name} received ${
          show(line.bytes)
        } with no LF, at the end of its stream`,
      });
    } else if (expected.some((e) => bytesEqual(e.bytes, line.bytes))) {
      add({
        clause: "§2.3",
        message: `${conn.name} received ${show(line.bytes)} more often than ${
          expected.filter((e) => bytesEqual(e.bytes, line.bytes)).length
        } time(s)`,
      });
    } else {
      const instead = missing.shift();
      add({
        clause: "§2.4",
        message: instead
          ? `${conn.name} received ${show(line.bytes)} instead of ${
            show(instead.bytes)
          }, ${instead.from}'s line`
          : `${conn.name} received ${show(line.bytes)}, which nobody sent`,
      });
    }
  }
  // Lines from one sender must come in the order they were sent.
  const last = new Map<string, number>();
  for (const i of matched) {
    const from = expected[i].from;
    if ((last.get(from) ?? -1) > i) {
      add({
        clause: "§2.6",
        message: `${conn.name} received ${from}'s line ${
          show(expected[i].bytes)
        } after a later line of ${from}`,
      });
      break;
    }
    last.set(from, i);
  }
  if (extras.length === 0) {
    for (const line of missing) {
      add({
        clause: "§2.1",
        message: `${conn.name} never received ${line.from}'s line ${
          show(line.bytes)
        } (step ${line.step}), though it was in the room`,
      });
    }
  }
  return out;
}
