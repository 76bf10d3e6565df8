/**
 * The fuzz area's cases: one per clause group a fuzz failure can break,
 * so that fuzz results sit in every report beside the fixed cases.
 *
 * @module
 */

import type { CaseDefinition } from "../case.ts";

export type FuzzCase = Omit<CaseDefinition, "run"> & { clauses: string[] };

/**
 * The fuzz area's clauses: which result each mismatch's clause goes to.
 *
 * @example
 * ```ts
 * import { FUZZ_CASES } from "./fuzz_cases.ts";
 * console.log(FUZZ_CASES.map((c) => c.id).includes("fuzz.no-echo")); // true
 * ```
 */
export const FUZZ_CASES: readonly FuzzCase[] = [
  {
    id: "fuzz.recipients",
    clause: "§2.1",
    level: "MUST",
    requirement:
      "In random schedules each line reaches every other client connected when it completed, no one who joined later or had left (§2.9, §2.10)",
    clauses: ["§2.1", "§2.9", "§2.10"],
  },
  {
    id: "fuzz.no-echo",
    clause: "§2.2",
    level: "MUST",
    requirement: "In random schedules no client receives its own line",
    clauses: ["§2.2"],
  },
  {
    id: "fuzz.exactly-once",
    clause: "§2.3",
    level: "MUST",
    requirement: "In random schedules no line is delivered twice",
    clauses: ["§2.3"],
  },
  {
    id: "fuzz.content",
    clause: "§2.4",
    level: "MUST",
    requirement:
      "In random schedules every line arrives byte for byte, however it was cut into segments (§1.4), never merged or split (§2.7)",
    clauses: ["§2.4", "§1.4", "§2.7"],
  },
  {
    id: "fuzz.order",
    clause: "§2.6",
    level: "MUST",
    requirement: "In random schedules each sender's lines arrive in order",
    clauses: ["§2.6"],
  },
  {
    id: "fuzz.partial-lines",
    clause: "§1.6",
    level: "MUST",
    requirement:
      "In random schedules the partial line of a client that leaves (close, half-close, reset) is never relayed",
    clauses: ["§1.6"],
  },
  {
    id: "fuzz.stays-up",
    clause: "§5.2",
    level: "MUST",
    requirement:
      "In random schedules no way of joining or leaving crashes the server or disconnects another client (§3.2)",
    clauses: ["§5.2", "§3.2"],
  },
];

/**
 * The fuzz case a mismatch of `clause` belongs to.
 *
 * @example
 * ```ts
 * import { fuzzCaseFor } from "./fuzz_cases.ts";
 * console.log(fuzzCaseFor("§2.9").id); // "fuzz.recipients"
 * ```
 */
export function fuzzCaseFor(clause: string): FuzzCase {
  return FUZZ_CASES.find((c) => c.clauses.includes(clause)) ??
    FUZZ_CASES.find((c) => c.id === "fuzz.content")!;
}
