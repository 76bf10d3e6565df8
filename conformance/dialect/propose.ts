/**
 * From what `--detect`'s clients saw to a dialect: the handshake (a name
 * prompt answered, greeting lines skipped), the relay pattern (the bytes
 * around each probe, with the part that names the sender made a group),
 * notice patterns, and echo.
 *
 * @module
 */

import { byteString } from "./dialect.ts";
import type { Dialect } from "./dialect.ts";

/**
 * What the detection's clients saw.
 *
 * @example
 * ```ts
 * import type { Observation } from "./propose.ts";
 * const obs: Observation = { greetings: [], notices: [], relayed: [], unexplained: [], names: new Map(), addresses: new Map(), sendEol: "lf" };
 * console.log(obs.sendEol);
 * ```
 */
export interface Observation {
  /** Lines a client got right after connecting. */
  greetings: { at: string; bytes: Uint8Array; unterminated?: boolean }[];
  /** Lines that were not a probe: joins, leaves, welcomes. */
  notices: { at: string; bytes: Uint8Array; leave?: boolean }[];
  /** Lines holding a probe: who sent it, who got it, as what. */
  relayed: { at: string; from: string; token: string; bytes: Uint8Array }[];
  /** Lines it could not place. */
  unexplained: { at: string; bytes: Uint8Array }[];
  /** Client → the name its handshake sent, when the server asked. */
  names: Map<string, string>;
  /** Client → its local address (`127.0.0.1:PORT`). */
  addresses: Map<string, string>;
  /** The line ending that got lines through. */
  sendEol: "lf" | "crlf";
  /** Whether LF alone got nothing through, and CR LF did. */
  crlfOnly?: boolean;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** `text` as a regex, with digits runs made `\d+`. */
function generalize(text: string): string {
  return escape(text).replace(/\d+/g, "\\d+");
}

function commonPrefix(texts: string[]): string {
  let p = texts[0] ?? "";
  for (const t of texts) while (!t.startsWith(p)) p = p.slice(0, -1);
  return p;
}

function commonSuffix(texts: string[]): string {
  let s = texts[0] ?? "";
  for (const t of texts) while (!t.endsWith(s)) s = s.slice(1);
  return s;
}

/**
 * The relay pattern for the decorations `prefixes` (sender → the bytes
 * before its probe) and the common `suffix`, or undefined when there are
 * none.
 *
 * @example
 * ```ts
 * import { relayPattern } from "./propose.ts";
 * const p = relayPattern(new Map([["A", "<user5> "], ["B", "<user6> "]]), "", new Map());
 * console.log(p); // "^<(?<sender>\\S+?)> (?<payload>.*)$"
 * ```
 */
export function relayPattern(
  prefixes: Map<string, string>,
  suffix: string,
  identities: Map<string, string[]>,
): string | undefined {
  const texts = [...prefixes.values()];
  if (texts.every((t) => t === "") && suffix === "") return undefined;
  const end = `${escape(suffix)}$`;
  // The sender named by what we know of it: its address or its name.
  for (const [sender, text] of prefixes) {
    const known = (identities.get(sender) ?? []).find((id) =>
      text.includes(id)
    );
    if (known === undefined) continue;
    const [before, after] = [
      text.slice(0, text.indexOf(known)),
      text.slice(text.indexOf(known) + known.length),
    ];
    const others = [...prefixes].filter(([s]) => s !== sender);
    const fits = others.every(([s, t]) =>
      (identities.get(s) ?? []).some((id) => t === `${before}${id}${after}`)
    );
    if (fits) {
      const group = /\s/.test(after.slice(0, 1)) || after === ""
        ? "\\S+"
        : "\\S+?";
      return `^${escape(before)}(?<sender>${group})${
        escape(after)
      }(?<payload>.*)${end}`;
    }
  }
  if (texts.every((t) => t === texts[0]) || texts.length < 2) {
    return `^${escape(texts[0])}(?<payload>.*)${end}`;
  }
  // The part that differs between senders names them.
  let head = commonPrefix(texts);
  let tail = commonSuffix(texts.map((t) => t.slice(head.length)));
  // Letters and digits next to the differing part belong to it (user5).
  const word = head.match(/[A-Za-z0-9_]*$/)![0];
  head = head.slice(0, head.length - word.length);
  const tailWord = tail.match(/^[A-Za-z0-9_]*/)![0];
  tail = tail.slice(tailWord.length);
  const middles = texts.map((t) =>
    t.slice(head.length, t.length - tail.length)
  );
  const group = middles.some((m) => /\s/.test(m)) ? ".+?" : "\\S+?";
  return `^${escape(head)}(?<sender>${group})${
    escape(tail)
  }(?<payload>.*)${end}`;
}

/**
 * Patterns for the notices seen: notices whose first word holds
 * punctuation (`* `, `<announce> `, `Welcome, `) are known by it; others
 * by their whole text, the clients' names and addresses and digit runs
 * generalised.
 *
 * @example
 * ```ts
 * import { noticePatterns } from "./propose.ts";
 * console.log(noticePatterns(["<announce> a is here", "<announce> b is gone", "hi detA"], ["detA"]));
 * // [ "^<announce> ", "^hi \\S+$" ]
 * ```
 */
export function noticePatterns(
  texts: string[],
  identities: readonly string[] = [],
): string[] {
  const out = new Set<string>();
  for (const text of texts) {
    const space = text.indexOf(" ");
    const token = space > 0 ? text.slice(0, space + 1) : "";
    if (/[^A-Za-z0-9_ ]/.test(token)) {
      out.add(`^${escape(token)}`);
      continue;
    }
    let pattern = escape(text);
    for (const id of [...identities].sort((a, b) => b.length - a.length)) {
      pattern = pattern.replaceAll(escape(id), "\\S+");
    }
    out.add(`^${pattern.replace(/\d+/g, "\\d+")}$`);
  }
  return [...out];
}

/**
 * The dialect that explains `obs`; empty when the server is bare.
 *
 * @example
 * ```ts
 * import { proposeDialect } from "./propose.ts";
 * const e = (s: string) => new TextEncoder().encode(s);
 * const d = proposeDialect({
 *   greetings: [], notices: [], unexplained: [], names: new Map(), sendEol: "lf",
 *   addresses: new Map([["A", "127.0.0.1:5001"], ["B", "127.0.0.1:5002"]]),
 *   relayed: [
 *     { at: "B", from: "A", token: "t1", bytes: e("127.0.0.1:5001: t1") },
 *     { at: "A", from: "B", token: "t2", bytes: e("127.0.0.1:5002: t2") },
 *   ],
 * });
 * console.log(d.relay); // "^(?<sender>\\S+?): (?<payload>.*)$"
 * ```
 */
export function proposeDialect(obs: Observation): Dialect {
  const dialect: Dialect = {};
  const handshake: NonNullable<Dialect["handshake"]> = {};
  const text = (b: Uint8Array) => byteString(b);
  const notices = obs.notices.map((n) => text(n.bytes));
  if (obs.names.size > 0) {
    handshake.send = "{name}";
    const prompt = obs.greetings.find((g) => !g.unterminated);
    const glued = obs.greetings.find((g) => g.unterminated);
    if (prompt) handshake.prompt = `^${generalize(text(prompt.bytes))}$`;
    // A prompt with no line end is glued onto the server's next line.
    if (glued) notices.push(text(glued.bytes));
  } else {
    const counts = [...new Set(obs.greetings.map((g) => g.at))].map((at) =>
      obs.greetings.filter((g) => g.at === at && !g.unterminated).length
    );
    if (
      counts.length > 0 && counts.every((n) => n === counts[0]) && counts[0] > 0
    ) {
      handshake.skipLines = counts[0];
    }
  }
  if (Object.keys(handshake).length > 0) dialect.handshake = handshake;
  const others = obs.relayed.filter((r) => r.at !== r.from);
  const prefixes = new Map<string, string>();
  const suffixes: string[] = [];
  for (const r of others) {
    const line = text(r.bytes);
    const at = line.lastIndexOf(r.token);
    if (!prefixes.has(r.from)) prefixes.set(r.from, line.slice(0, at));
    suffixes.push(line.slice(at + r.token.length));
  }
  const identities = new Map<string, string[]>();
  for (const [client, address] of obs.addresses) {
    identities.set(client, [
      address,
      ...(obs.names.has(client) ? [obs.names.get(client)!] : []),
    ]);
  }
  const suffix = suffixes.every((s) => s === suffixes[0])
    ? suffixes[0] ?? ""
    : "";
  const relay = relayPattern(prefixes, suffix, identities);
  if (relay !== undefined) dialect.relay = relay;
  const patterns = noticePatterns(notices, [...identities.values()].flat());
  if (patterns.length > 0) dialect.notices = patterns;
  // Greetings the notice patterns cover need no skipping (more robust).
  const covered = (g: { bytes: Uint8Array }) =>
    patterns.some((p) => new RegExp(p, "s").test(text(g.bytes)));
  if (handshake.skipLines && obs.greetings.every(covered)) {
    delete handshake.skipLines;
    if (Object.keys(handshake).length === 0) delete dialect.handshake;
  }
  if (obs.relayed.some((r) => r.at === r.from)) dialect.echo = true;
  return dialect;
}
