/**
 * `--detect`: connects three clients, listens, names them if asked, sends
 * a few lines, closes one, and from what came back proposes a dialect
 * (the profile and the flags to use), or says that the server is bare.
 * What each client saw is kept as evidence; `propose.ts` turns it into
 * the dialect.
 *
 * @module
 */

import type { Target } from "../../lib/args.ts";
import { escapeBytes } from "../escape.ts";
import type { Dialect } from "./dialect.ts";
import { type Observation, proposeDialect } from "./propose.ts";

/**
 * Options for {@linkcode detectDialect}.
 *
 * @example
 * ```ts
 * import type { DetectOptions } from "./detect.ts";
 * const options: DetectOptions = { target: { hostname: "127.0.0.1", port: 7687 } };
 * console.log(options.target.port);
 * ```
 */
export interface DetectOptions {
  /** The server. */
  target: Target;
  /**
   * How long to listen after each step, in ms (scaled by `timeoutScale`).
   *
   * @default {400}
   */
  quietMs?: number;
  /**
   * Multiplies the listening time.
   *
   * @default {1}
   */
  timeoutScale?: number;
}

/**
 * What `--detect` found.
 *
 * @example
 * ```ts
 * import type { Detection } from "./detect.ts";
 * const d: Detection = { bare: true, dialect: {}, sendEol: "lf", evidence: [] };
 * console.log(d.bare);
 * ```
 */
export interface Detection {
  /** The server relays bare lines: no dialect is needed. */
  bare: boolean;
  /** The dialect proposed (empty when bare). */
  dialect: Dialect;
  /** The line ending the server frames. */
  sendEol: "lf" | "crlf";
  /** What was seen, one line each, escaped. */
  evidence: string[];
}

/** A client of the detection: raw bytes in, split at LF as they come. */
class Listener {
  readonly name: string;
  readonly conn: Deno.TcpConn;
  readonly lines: Uint8Array[] = [];
  #partial: number[] = [];
  closed = false;

  constructor(name: string, conn: Deno.TcpConn) {
    this.name = name;
    this.conn = conn;
    this.#pump();
  }

  get localAddr(): string {
    const { hostname, port } = this.conn.localAddr as Deno.NetAddr;
    return `${hostname}:${port}`;
  }

  /** Bytes after the last LF (a prompt without a terminator). */
  get partial(): Uint8Array {
    return new Uint8Array(this.#partial);
  }

  async #pump(): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        for (const byte of buffer.subarray(0, n)) {
          if (byte !== 0x0a) {
            this.#partial.push(byte);
            continue;
          }
          const line = this.#partial;
          if (line[line.length - 1] === 0x0d) line.pop();
          this.lines.push(new Uint8Array(line));
          this.#partial = [];
        }
      }
    } catch {
      // Reset, or closed by us.
    }
    this.closed = true;
  }

  /** Lines that came since the last call. */
  take(from: number): Uint8Array[] {
    return this.lines.slice(from);
  }

  async send(text: string, eol: string): Promise<void> {
    try {
      await this.conn.write(new TextEncoder().encode(text + eol));
    } catch {
      // Gone: what came back says so.
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

const NAME_PROMPT = /name|nick|who are you|login|identify/i;

/**
 * Detects how the server at `options.target` decorates its lines.
 *
 * @example
 * ```ts ignore
 * import { detectDialect } from "./detect.ts";
 * const found = await detectDialect({ target: { hostname: "127.0.0.1", port: 7687 } });
 * console.log(found.bare);
 * ```
 */
export async function detectDialect(
  options: DetectOptions,
): Promise<Detection> {
  const quietMs = Math.round(
    (options.quietMs ?? 400) * (options.timeoutScale ?? 1),
  );
  const clients: Listener[] = [];
  const seen = new Map<Listener, number>();
  const obs: Observation = {
    greetings: [],
    notices: [],
    relayed: [],
    unexplained: [],
    names: new Map(),
    addresses: new Map(),
    sendEol: "lf",
  };
  const pause = () => new Promise((r) => setTimeout(r, quietMs));
  // Everything that arrived since the last look, per client.
  const fresh = () =>
    clients.map((c) => {
      const lines = c.take(seen.get(c) ?? 0);
      seen.set(c, c.lines.length);
      return { client: c, lines };
    });
  try {
    for (const name of ["A", "B", "C"]) {
      const conn = await Deno.connect({
        hostname: options.target.hostname,
        port: options.target.port,
      });
      const client = new Listener(name, conn);
      obs.addresses.set(name, client.localAddr);
      clients.push(client);
      await pause();
      for (const { client: c, lines } of fresh()) {
        for (const line of lines) {
          (c === client ? obs.greetings : obs.notices).push({
            at: c.name,
            bytes: line,
          });
        }
      }
      const prompt = client.partial;
      if (prompt.length > 0) {
        obs.greetings.push({ at: name, bytes: prompt, unterminated: true });
      }
    }
    const asked = obs.greetings.some((g) =>
      NAME_PROMPT.test(new TextDecoder().decode(g.bytes))
    );
    if (asked) {
      for (const c of clients) {
        const name = `det${c.name}`;
        obs.names.set(c.name, name);
        await c.send(name, "\n");
      }
      await pause();
      for (const { client: c, lines } of fresh()) {
        for (const bytes of lines) obs.notices.push({ at: c.name, bytes });
      }
    }
    const probe = (from: Listener, k: number) => `lccdetect${k}${from.name}x`;
    let k = 0;
    for (const from of clients) {
      const first = probe(from, ++k);
      await from.send(first, obs.sendEol === "crlf" ? "\r\n" : "\n");
      await pause();
      let batch = fresh();
      const arrived = batch.some(({ client, lines }) =>
        client !== from && lines.some((l) => includes(l, first))
      );
      if (!arrived && obs.sendEol === "lf" && from === clients[0]) {
        // Nothing with LF: try CR LF (a server that frames only CR LF).
        const second = probe(from, ++k);
        await from.send(second, "\r\n");
        await pause();
        const more = fresh();
        if (
          more.some(({ client, lines }) =>
            client !== from && lines.some((l) => includes(l, second))
          )
        ) {
          obs.sendEol = "crlf";
          obs.crlfOnly = true;
        }
        batch = batch.map((b, i) => ({
          ...b,
          lines: [...b.lines, ...more[i].lines],
        }));
      }
      for (const { client, lines } of batch) {
        for (const bytes of lines) {
          const token = [...Array(k).keys()].map((i) =>
            clients.map((c) => probe(c, i + 1))
          ).flat().find((t) => includes(bytes, t));
          if (token === undefined) {
            obs.notices.push({ at: client.name, bytes });
            continue;
          }
          obs.relayed.push({
            at: client.name,
            from: token.slice(-2, -1),
            token,
            bytes,
          });
        }
      }
    }
    // A leave: C goes; A and B may be told.
    clients[2].close();
    await pause();
    for (const { client, lines } of fresh().slice(0, 2)) {
      for (const bytes of lines) {
        obs.notices.push({ at: client.name, bytes, leave: true });
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
  const dialect = proposeDialect(obs);
  const evidence = [
    ...(obs.crlfOnly
      ? [
        "A's first line, ended by LF alone, reached nobody; its next, ended by CR LF, did",
      ]
      : []),
    ...obs.greetings.map((g) =>
      `${g.at} was greeted: "${escapeBytes(g.bytes)}"${
        g.unterminated ? " (no line end)" : ""
      }`
    ),
    ...obs.notices.map((n) =>
      `${n.at} got a notice: "${escapeBytes(n.bytes)}"`
    ),
    ...obs.relayed.map((r) =>
      `${r.at} got ${
        r.from === r.at ? "its own" : `${r.from}'s`
      } "${r.token}" as "${escapeBytes(r.bytes)}"`
    ),
  ];
  const bare = Object.keys(dialect).length === 0;
  return { bare, dialect, sendEol: obs.sendEol, evidence };
}

function includes(line: Uint8Array, token: string): boolean {
  return new TextDecoder().decode(line).includes(token);
}

/**
 * The text `--detect` prints: the evidence, then the verdict (bare, or the
 * profile and the command line to use, with `target` as its target flag).
 *
 * @example
 * ```ts
 * import { formatDetection } from "./detect.ts";
 * const found = { bare: true, dialect: {}, sendEol: "lf" as const, evidence: [] };
 * console.log(formatDetection(found, "--target 127.0.0.1:7687").includes("bare")); // true
 * ```
 */
export function formatDetection(
  found: Detection,
  target = "--target HOST:PORT",
): string {
  const out = [
    "What three clients saw:",
    ...found.evidence.map((e) => `  ${e}`),
    "",
  ];
  const eol = found.sendEol === "crlf" ? " --send-eol crlf" : "";
  if (found.bare) {
    out.push(
      `The server is bare: it relays lines as they were sent, with no greeting, notice or echo.` +
        (eol ? " It frames only CR LF." : ""),
      `Run the suite without a dialect${eol ? `, with${eol}` : ""}.`,
    );
    return out.join("\n") + "\n";
  }
  const json = JSON.stringify(found.dialect);
  out.push(
    "The server decorates its lines. Proposed dialect (save it as a profile file, or pass it inline):",
    "",
    JSON.stringify(found.dialect, null, 2),
    "",
    `  deno task conformance ${target} --dialect '${
      json.replaceAll("'", "'\\''")
    }'${eol}`,
  );
  return out.join("\n") + "\n";
}
