/**
 * The JSON report's schema, as a JSON Schema document, and a small
 * validator for the subset it uses (so tests can hold reports to it).
 *
 * @module
 */

import { SCHEMA_VERSION, VERDICTS } from "./types.ts";

/**
 * A JSON Schema document (the keywords this module uses).
 *
 * @example
 * ```ts
 * import type { JsonSchema } from "./schema.ts";
 * const schema: JsonSchema = { type: "object", required: ["id"] };
 * console.log(schema.type);
 * ```
 */
export type JsonSchema = Record<string, unknown>;
type Schema = JsonSchema;

const str = { type: "string" };
const int = { type: "integer" };
const num = { type: "number" };
const bool = { type: "boolean" };
const dataValue = { type: ["string", "number", "boolean", "null"] };
const clientLines = {
  type: "object",
  description:
    "Client name → lines, each escaped (see README: reading evidence).",
  additionalProperties: { type: "array", items: str },
};

const finding: Schema = {
  type: "object",
  required: ["severity", "clause", "message"],
  additionalProperties: false,
  properties: {
    severity: { enum: ["fail", "non-strict", "info", "skip"] },
    clause: str,
    message: str,
    expected: clientLines,
    received: clientLines,
    data: { type: "object", additionalProperties: dataValue },
    cause: {
      ...str,
      description: "The id of the diagnosis that explains it.",
    },
  },
};

const diagnosis: Schema = {
  type: "object",
  required: ["id", "severity", "clause", "message", "cases", "stopped"],
  additionalProperties: false,
  properties: {
    id: str,
    severity: { enum: ["fail", "non-strict", "info"] },
    clause: str,
    message: str,
    hint: str,
    cases: {
      type: "array",
      items: str,
      description: "The cases whose failure it explains.",
    },
    stopped: {
      ...bool,
      description: "The run stopped on it: the cases after were not run.",
    },
    data: { type: "object", additionalProperties: dataValue },
  },
};

const traceEvent: Schema = {
  type: "object",
  required: ["t", "client", "event"],
  additionalProperties: false,
  properties: {
    t: { ...num, description: "ms since the case started" },
    client: str,
    event: {
      enum: [
        "connect",
        "send",
        "recv",
        "eof",
        "reset",
        "timeout",
        "half-close",
        "close",
        "error",
        "note",
      ],
    },
    data: str,
    bytes: int,
    terminator: { enum: ["crlf", "lf"] },
  },
};

const caseResult: Schema = {
  type: "object",
  required: [
    "id",
    "area",
    "clause",
    "level",
    "requirement",
    "verdict",
    "counted",
    "message",
    "findings",
    "measurements",
    "durationMs",
    "attempts",
  ],
  additionalProperties: false,
  properties: {
    id: str,
    area: str,
    clause: str,
    level: { enum: ["MUST", "SHOULD", "INFO"] },
    requirement: str,
    verdict: { enum: [...VERDICTS] },
    counted: bool,
    message: str,
    findings: { type: "array", items: finding },
    measurements: { type: "object", additionalProperties: dataValue },
    durationMs: int,
    attempts: int,
    trace: { type: "array", items: traceEvent },
    traceOmitted: int,
    serverOutput: str,
    cause: {
      ...str,
      description: "The id of the diagnosis that explains its failure.",
    },
  },
};

/**
 * The JSON Schema (2020-12) of the report `--format json` prints.
 *
 * @example
 * ```ts
 * import { REPORT_SCHEMA } from "./schema.ts";
 * console.log(REPORT_SCHEMA.$id);
 * ```
 */
export const REPORT_SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: `linechat-conformance-report-v${SCHEMA_VERSION}`,
  title: "linechat conformance report",
  type: "object",
  required: [
    "schemaVersion",
    "tool",
    "protocol",
    "startedAt",
    "durationMs",
    "targets",
    "spawn",
    "options",
    "bound",
    "latency",
    "diagnoses",
    "server",
    "summary",
    "cases",
  ],
  additionalProperties: false,
  properties: {
    schemaVersion: { const: SCHEMA_VERSION },
    tool: {
      type: "object",
      required: ["name", "version"],
      additionalProperties: false,
      properties: { name: { const: "linechat-conformance" }, version: str },
    },
    protocol: { const: "linechat/1" },
    startedAt: { ...str, description: "ISO 8601" },
    durationMs: int,
    targets: { type: "array", items: str },
    spawn: {
      type: ["object", "null"],
      required: ["command", "restarts", "crashes"],
      additionalProperties: false,
      properties: {
        command: str,
        restarts: int,
        crashes: {
          type: "array",
          items: {
            type: "object",
            required: ["caseId", "code", "signal", "outputTail"],
            additionalProperties: false,
            properties: {
              caseId: str,
              code: { type: ["integer", "null"] },
              signal: { type: ["string", "null"] },
              outputTail: str,
            },
          },
        },
      },
    },
    options: {
      type: "object",
      required: [
        "level",
        "only",
        "skip",
        "clients",
        "timeoutScale",
        "maxLineBytes",
        "maxClients",
        "retries",
        "sendEol",
        "keepGoing",
      ],
      additionalProperties: false,
      properties: {
        level: { enum: ["must", "should", "all"] },
        only: { type: "array", items: str },
        skip: { type: "array", items: str },
        clients: int,
        timeoutScale: num,
        maxLineBytes: int,
        maxPendingBytes: int,
        maxClients: { type: ["integer", "null"] },
        retries: int,
        sendEol: { enum: ["lf", "crlf"] },
        keepGoing: bool,
      },
    },
    dialect: {
      type: "object",
      description:
        "With --dialect: the relaxations applied and the clauses given up.",
      required: ["profile", "relaxations", "notApplicable"],
      additionalProperties: false,
      properties: {
        profile: str,
        relaxations: { type: "array", items: str },
        notApplicable: {
          type: "array",
          items: {
            type: "object",
            required: ["clause", "reason"],
            additionalProperties: false,
            properties: { clause: str, reason: str },
          },
        },
      },
    },
    bound: {
      type: "object",
      description: "The run ends within ms, however the server behaves.",
      required: ["ms", "fromDeadline"],
      additionalProperties: false,
      properties: { ms: int, fromDeadline: bool },
    },
    latency: {
      type: ["object", "null"],
      description:
        "Round trips (a line A → B, one B → A) measured before the cases.",
      required: ["medianMs", "p99Ms", "rounds", "waitScale"],
      additionalProperties: false,
      properties: { medianMs: num, p99Ms: num, rounds: int, waitScale: num },
    },
    diagnoses: { type: "array", items: diagnosis },
    server: {
      type: "object",
      required: ["outputTerminator", "linesReceived", "lfOnlyLines"],
      additionalProperties: false,
      properties: {
        outputTerminator: { enum: ["crlf", "lf", "mixed", "unknown"] },
        linesReceived: int,
        lfOnlyLines: int,
      },
    },
    summary: {
      type: "object",
      required: [
        "total",
        "pass",
        "non-strict",
        "fail",
        "skipped",
        "flaky",
        "timeout",
        "info",
        "counted",
        "exitCode",
      ],
      additionalProperties: false,
      properties: {
        total: int,
        pass: int,
        "non-strict": int,
        fail: int,
        skipped: int,
        flaky: int,
        timeout: int,
        info: int,
        counted: int,
        exitCode: { enum: [0, 1] },
      },
    },
    cases: { type: "array", items: caseResult },
  },
};

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") {
    return Number.isInteger(value) ? "integer" : "number";
  }
  return typeof value;
}

/**
 * Checks `value` against `schema` (the keywords this module uses: `type`,
 * `enum`, `const`, `required`, `properties`, `additionalProperties`,
 * `items`) and returns the problems, each with its JSON path.
 *
 * @example
 * ```ts
 * import { validateSchema } from "./schema.ts";
 * console.log(validateSchema({ a: 1 }, { type: "object", required: ["b"] })); // [ "$: missing b" ]
 * ```
 */
export function validateSchema(
  value: unknown,
  schema: JsonSchema,
  path = "$",
): string[] {
  const problems: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    const ok = types.some((t) =>
      t === actual || (t === "number" && actual === "integer")
    );
    if (!ok) return [`${path}: expected ${types.join(" or ")}, got ${actual}`];
  }
  if ("const" in schema && value !== schema.const) {
    problems.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    problems.push(
      `${path}: ${JSON.stringify(value)} is not one of ${
        JSON.stringify(schema.enum)
      }`,
    );
  }
  if (actual === "object") {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in object)) problems.push(`${path}: missing ${key}`);
    }
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, item] of Object.entries(object)) {
      if (key in properties) {
        problems.push(
          ...validateSchema(item, properties[key], `${path}.${key}`),
        );
      } else if (schema.additionalProperties === false) {
        problems.push(`${path}: unexpected property ${key}`);
      } else if (typeof schema.additionalProperties === "object") {
        problems.push(
          ...validateSchema(
            item,
            schema.additionalProperties as Schema,
            `${path}.${key}`,
          ),
        );
      }
    }
  }
  if (actual === "array" && schema.items) {
    (value as unknown[]).forEach((item, i) =>
      problems.push(
        ...validateSchema(item, schema.items as Schema, `${path}[${i}]`),
      )
    );
  }
  return problems;
}
