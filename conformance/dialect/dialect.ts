/**
 * Dialects: how a server that decorates its lines speaks, declared so the
 * suite can judge the payload inside each decorated line. A dialect says
 * what to do after connecting (the handshake), how to take sender and
 * payload out of a relayed line (a regex with named groups), which lines
 * are the server's own notices (ignored), and whether a sender gets its
 * own line back. Patterns work on bytes: each byte is one character
 * (U+0000–U+00FF), so the payload taken out is byte for byte what came.
 *
 * @module
 */

/**
 * A dialect as declared: the JSON of a profile file (`--dialect FILE`) or
 * of `--dialect '{…}'`.
 *
 * @example
 * ```ts
 * import type { Dialect } from "./dialect.ts";
 * const ncat: Dialect = {
 *   relay: "^<(?<sender>user\\d+)> (?<payload>.*)$",
 *   notices: ["^<announce> "],
 *   echo: false,
 * };
 * console.log(ncat.relay);
 * ```
 */
export interface Dialect {
  /** A name for the report. */
  name?: string;
  /** What each client does right after connecting, in this order. */
  handshake?: {
    /** Read lines until one matches this regex (a prompt, a greeting). */
    prompt?: string;
    /** Then read and drop this many lines (a banner). */
    skipLines?: number;
    /** Then send this line; `{name}` stands for a name unique in the run. */
    send?: string;
  };
  /**
   * The relayed line: a regex with a `payload` group and, if the server
   * names the sender, a `sender` group. A line it does not match is
   * judged whole (a partial line glued on, a merged fragment).
   */
  relay?: string;
  /** Regexes of the server's notices (joins, leaves, prompts): ignored. */
  notices?: string[];
  /**
   * Whether the sender gets its own line back.
   *
   * @default {false}
   */
  echo?: boolean;
}

/**
 * A dialect ready to apply: its regexes compiled.
 *
 * @example
 * ```ts
 * import { compileDialect } from "./dialect.ts";
 * const d = compileDialect({ relay: "^(?<sender>[^:]+): (?<payload>.*)$" });
 * console.log(d.relay?.source);
 * ```
 */
export interface CompiledDialect {
  /** The dialect as declared. */
  declared: Dialect;
  /** The relay pattern (with indices, for the payload's bytes). */
  relay?: RegExp;
  /** The notice patterns. */
  notices: RegExp[];
  /** The prompt pattern of the handshake. */
  prompt?: RegExp;
}

/**
 * What one received line is, through a dialect.
 *
 * @example
 * ```ts
 * import type { DecodedLine } from "./dialect.ts";
 * const decoded: DecodedLine = { kind: "notice" };
 * console.log(decoded.kind);
 * ```
 */
export type DecodedLine =
  | { kind: "notice" }
  | { kind: "relay"; payload: Uint8Array; sender?: string }
  | { kind: "raw" };

/**
 * Reads a dialect from JSON text; throws an Error naming what is wrong.
 *
 * @example
 * ```ts
 * import { parseDialect } from "./dialect.ts";
 * console.log(parseDialect('{"echo": true}').echo); // true
 * ```
 */
export function parseDialect(text: string): Dialect {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("expected a JSON object");
  }
  const known = ["name", "handshake", "relay", "notices", "echo"];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new Error(`unknown field "${key}" (known: ${known.join(", ")})`);
    }
  }
  const d = value as Dialect;
  const isString = (v: unknown) => v === undefined || typeof v === "string";
  if (!isString(d.name) || !isString(d.relay)) {
    throw new Error("name and relay must be strings");
  }
  if (d.echo !== undefined && typeof d.echo !== "boolean") {
    throw new Error("echo must be true or false");
  }
  if (
    d.notices !== undefined &&
    (!Array.isArray(d.notices) ||
      !d.notices.every((n) => typeof n === "string"))
  ) {
    throw new Error("notices must be an array of regexes");
  }
  const h = d.handshake;
  if (h !== undefined) {
    if (typeof h !== "object" || h === null) {
      throw new Error("handshake must be an object");
    }
    if (!isString(h.prompt) || !isString(h.send)) {
      throw new Error("handshake.prompt and handshake.send must be strings");
    }
    if (
      h.skipLines !== undefined &&
      !(Number.isInteger(h.skipLines) && h.skipLines >= 0)
    ) throw new Error("handshake.skipLines must be a whole number");
  }
  compileDialect(d);
  return d;
}

/**
 * Compiles a dialect's regexes; throws on a bad one, or a relay pattern
 * without a `payload` group.
 *
 * @example
 * ```ts
 * import { compileDialect } from "./dialect.ts";
 * console.log(compileDialect({ notices: ["^\\* "] }).notices.length); // 1
 * ```
 */
export function compileDialect(dialect: Dialect): CompiledDialect {
  const regex = (what: string, source: string, flags = "") => {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`);
    }
  };
  const relay = dialect.relay === undefined
    ? undefined
    : regex("relay", dialect.relay, "ds");
  if (relay && !/\(\?<payload>/.test(dialect.relay!)) {
    throw new Error("relay: the pattern needs a (?<payload>…) group");
  }
  return {
    declared: dialect,
    relay,
    notices: (dialect.notices ?? []).map((n) => regex("notice", n, "s")),
    prompt: dialect.handshake?.prompt === undefined
      ? undefined
      : regex("handshake.prompt", dialect.handshake.prompt, "s"),
  };
}

/**
 * The bytes as a string of one character per byte, for the patterns.
 *
 * @example
 * ```ts
 * import { byteString } from "./dialect.ts";
 * console.log(byteString(new Uint8Array([0x41, 0xff])).length); // 2
 * ```
 */
export function byteString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/**
 * What `bytes` (one received line, terminator removed) is through
 * `dialect`: a notice, a relayed line with its payload (and sender), or
 * a line the dialect does not explain (judged whole).
 *
 * @example
 * ```ts
 * import { compileDialect, decodeLine } from "./dialect.ts";
 * const d = compileDialect({ relay: "^<(?<sender>\\w+)> (?<payload>.*)$", notices: ["^\\* "] });
 * const got = decodeLine(d, new TextEncoder().encode("<bob> hi"));
 * console.log(got.kind === "relay" && new TextDecoder().decode(got.payload), got.kind === "relay" && got.sender); // "hi" "bob"
 * console.log(decodeLine(d, new TextEncoder().encode("* bob joined")).kind); // "notice"
 * ```
 */
export function decodeLine(
  dialect: CompiledDialect,
  bytes: Uint8Array,
): DecodedLine {
  if (dialect.relay === undefined && dialect.notices.length === 0) {
    return { kind: "raw" };
  }
  const text = byteString(bytes);
  // Notices first: a notice may look like a relayed line (ncat's
  // `<announce> <user6> is disconnected.` fits `^<(?<sender>\S+?)> `).
  if (dialect.notices.some((n) => n.test(text))) return { kind: "notice" };
  const match = dialect.relay?.exec(text);
  const at = match?.indices?.groups?.payload;
  if (match && at) {
    return {
      kind: "relay",
      payload: bytes.subarray(at[0], at[1]),
      sender: match.groups?.sender,
    };
  }
  return { kind: "raw" };
}

/**
 * The relaxations a dialect makes, one line each, for the report.
 *
 * @example
 * ```ts
 * import { relaxations } from "./dialect.ts";
 * console.log(relaxations({ echo: true })[0]); // "the sender's own lines that come back are dropped (§2.2 not applicable)"
 * ```
 */
export function relaxations(dialect: Dialect): string[] {
  const out: string[] = [];
  const h = dialect.handshake;
  if (h?.prompt !== undefined) {
    out.push(`each client first reads up to a line matching /${h.prompt}/`);
  }
  if (h?.skipLines) {
    out.push(`each client drops the first ${h.skipLines} lines`);
  }
  if (h?.send !== undefined) {
    out.push(`each client first sends "${h.send}" ({name}: unique per client)`);
  }
  if (dialect.relay !== undefined) {
    out.push(
      `relayed lines are judged by their payload, taken out by /${dialect.relay}/ ` +
        "(§2.4 holds for the payload only; a line it does not match is judged whole)",
    );
  }
  for (const notice of dialect.notices ?? []) {
    out.push(`lines matching /${notice}/ are the server's notices, ignored`);
  }
  if (dialect.echo) {
    out.push(
      "the sender's own lines that come back are dropped (§2.2 not applicable)",
    );
  }
  return out;
}

/**
 * The clauses a dialect gives up, with why: cases that check them are not
 * applicable (verdict `skipped`, with the reason), not passed.
 *
 * @example
 * ```ts
 * import { givenUpClauses } from "./dialect.ts";
 * console.log([...givenUpClauses({ echo: true, notices: ["^\\*"] }).keys()]); // [ "§2.2", "§3.1" ]
 * ```
 */
export function givenUpClauses(dialect: Dialect): Map<string, string> {
  const out = new Map<string, string>();
  if (dialect.echo) {
    out.set("§2.2", "the dialect declares that the server echoes (echo: true)");
  }
  const h = dialect.handshake;
  if ((dialect.notices?.length ?? 0) > 0 || h?.prompt || h?.skipLines) {
    out.set(
      "§3.1",
      "the dialect declares the server's own lines (notices, a prompt or a greeting)",
    );
  }
  if (dialect.relay !== undefined) {
    out.set(
      "§2.4",
      "the dialect declares a decoration: lines are judged by their payload, not byte for byte",
    );
  }
  return out;
}
