/**
 * Faulty servers that decorate their lines the common ways, for the
 * dialect self-test: each has a dialect that explains its decoration, and
 * one real fault the suite must still find through it.
 * `deno run -A conformance/faulty/decorating.ts --style NAME --port N`.
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  runMain,
  UsageError,
} from "../../lib/args.ts";
import type { Dialect } from "../dialect/dialect.ts";

/**
 * A decorating server: what it does, the dialect that explains it, and
 * the case that still finds its real fault through that dialect.
 *
 * @example
 * ```ts
 * import { DECORATING_SERVERS } from "./decorating.ts";
 * console.log(DECORATING_SERVERS.addr_echo.realFault); // "disconnect.partial-line-close"
 * ```
 */
export interface DecoratingServer {
  /** What it does, decoration and fault. */
  description: string;
  /** The dialect that explains its decoration. */
  dialect: Dialect;
  /** How the harness must end its lines for it. */
  sendEol: "lf" | "crlf";
  /** A case that fails on its real fault, through the dialect. */
  realFault: string;
}

/**
 * The decorating servers, by style name.
 *
 * @example
 * ```ts
 * import { DECORATING_SERVERS } from "./decorating.ts";
 * console.log(Object.keys(DECORATING_SERVERS)); // [ "addr_echo", "name_prompt", "says_raw", "crlf_only" ]
 * ```
 */
export const DECORATING_SERVERS: Readonly<Record<string, DecoratingServer>> = {
  addr_echo: {
    description:
      "relays `ADDR: line` to everyone, the sender too, announces arrivals and departures " +
      "(`* ADDR has joined`); its fault: the partial line of a client that leaves is relayed (§1.6).",
    dialect: {
      relay: "^(?<sender>\\S+?): (?<payload>.*)$",
      notices: ["^\\* "],
      echo: true,
    },
    sendEol: "lf",
    realFault: "disconnect.partial-line-close",
  },
  name_prompt: {
    description:
      "asks `What is your name?`, takes the first line as the name, welcomes, relays " +
      "`<name> line`; its fault: empty lines are dropped (§2.8).",
    dialect: {
      handshake: { prompt: "^What is your name\\?$", send: "{name}" },
      relay: "^<(?<sender>[^>]+)> (?<payload>.*)$",
      notices: ["^\\* ", "^Welcome, "],
    },
    sendEol: "lf",
    realFault: "framing.empty-line",
  },
  says_raw: {
    description:
      "relays `userN says ` and then each chunk it reads, as it is: no framing at all (§1.4).",
    dialect: { relay: "^(?<sender>user\\d+) says (?<payload>.*)$" },
    sendEol: "lf",
    realFault: "framing.byte-by-byte",
  },
  crlf_only: {
    description:
      "frames only lines ended by CR LF (an LF alone is content), relays `ADDR> line`; " +
      "its fault: lines are decoded as UTF-8 and encoded again (§1.3).",
    dialect: { relay: "^(?<sender>\\S+?)> (?<payload>.*)$" },
    sendEol: "crlf",
    realFault: "framing.invalid-utf8",
  },
};

const LF = 0x0a;
const CR = 0x0d;
const MAX_LINE_BYTES = 64 * 1024;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

interface Client {
  conn: Deno.TcpConn;
  addr: string;
  name: string | undefined;
  partial: number[];
  pending: number;
  chain: Promise<void>;
  gone: boolean;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/**
 * Starts the decorating server `style` on 127.0.0.1:`port`.
 *
 * @example
 * ```ts ignore
 * import { serveDecorating } from "./decorating.ts";
 * const listener = serveDecorating("addr_echo", 7001);
 * listener.close();
 * ```
 */
export function serveDecorating(style: string, port: number): Deno.Listener {
  if (!Object.hasOwn(DECORATING_SERVERS, style)) {
    throw new UsageError(
      `--style: unknown "${style}" (known: ${
        Object.keys(DECORATING_SERVERS).join(", ")
      })`,
    );
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(
    `decorating server listening addr=127.0.0.1:${port} style=${style}`,
  );
  const clients = new Set<Client>();
  let users = 0;

  const drop = (c: Client) => {
    if (c.gone) return;
    c.gone = true;
    clients.delete(c);
    try {
      c.conn.close();
    } catch {
      // Closed already.
    }
  };
  const send = (c: Client, bytes: Uint8Array) => {
    if (c.gone) return;
    if (c.pending + bytes.length > MAX_PENDING_BYTES) return drop(c);
    c.pending += bytes.length;
    c.chain = c.chain.then(async () => {
      let at = 0;
      while (at < bytes.length && !c.gone) {
        at += await c.conn.write(bytes.subarray(at));
      }
      c.pending -= bytes.length;
    }).catch(() => drop(c));
  };
  const line = (text: string | Uint8Array) =>
    concat(
      typeof text === "string" ? utf8(text) : text,
      new Uint8Array([CR, LF]),
    );
  const toOthers = (
    from: Client | undefined,
    bytes: Uint8Array,
    echo = false,
  ) => {
    for (const c of clients) if (c !== from || echo) send(c, bytes);
  };

  const relay = (from: Client, content: Uint8Array) => {
    if (style === "name_prompt") {
      if (from.name === undefined) {
        from.name = new TextDecoder().decode(content);
        send(from, line(`Welcome, ${from.name}!`));
        toOthers(from, line(`* ${from.name} joined`));
        clients.add(from);
        return;
      }
      if (content.length === 0) return; // The fault: empty lines dropped.
      toOthers(from, line(concat(utf8(`<${from.name}> `), content)));
    } else if (style === "addr_echo") {
      toOthers(from, line(concat(utf8(`${from.addr}: `), content)), true);
    } else if (style === "crlf_only") {
      // The fault: decoded and encoded again.
      const text = new TextDecoder().decode(content);
      toOthers(from, line(concat(utf8(`${from.addr}> `), utf8(text))));
    }
  };

  const frame = (c: Client, chunk: Uint8Array): boolean => {
    if (style === "says_raw") {
      toOthers(c, concat(utf8(`${c.name} says `), chunk));
      return true;
    }
    for (const b of chunk) {
      const ends = b === LF &&
        (style !== "crlf_only" || c.partial.at(-1) === CR);
      if (!ends) {
        c.partial.push(b);
        if (c.partial.length > MAX_LINE_BYTES + 1) return false;
        continue;
      }
      const bytes = c.partial;
      if (bytes.at(-1) === CR) bytes.pop();
      c.partial = [];
      if (bytes.length > MAX_LINE_BYTES) return false;
      relay(c, new Uint8Array(bytes));
    }
    return true;
  };

  const serve = async (c: Client) => {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      let n: number | null;
      try {
        n = await c.conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) break;
      if (!frame(c, buffer.subarray(0, n))) break;
    }
    if (style === "addr_echo" && c.partial.length > 0) {
      // The fault: the partial line of a client that leaves is relayed.
      relay(c, new Uint8Array(c.partial));
    }
    clients.delete(c);
    if (style === "addr_echo") toOthers(c, line(`* ${c.addr} has left`));
    if (style === "name_prompt" && c.name) {
      toOthers(c, line(`* ${c.name} left`));
    }
    await c.chain;
    drop(c);
  };

  (async () => {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        continue;
      }
      const tcp = conn as Deno.TcpConn;
      try {
        tcp.setNoDelay(true);
      } catch {
        // Gone already.
      }
      const remote = tcp.remoteAddr as Deno.NetAddr;
      const c: Client = {
        conn: tcp,
        addr: `${remote.hostname}:${remote.port}`,
        name: style === "says_raw" ? `user${++users}` : undefined,
        partial: [],
        pending: 0,
        chain: Promise.resolve(),
        gone: false,
      };
      if (style === "name_prompt") send(c, line("What is your name?"));
      else {
        if (style === "addr_echo") {
          toOthers(undefined, line(`* ${c.addr} has joined`));
        }
        clients.add(c);
      }
      serve(c);
    }
  })();
  return listener;
}

function main(args: string[]): void {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      style: { type: "string", default: "addr_echo" },
      port: { type: "string", default: "7687" },
      list: { type: "boolean", default: false },
    },
  });
  if (values.list) {
    for (const [name, s] of Object.entries(DECORATING_SERVERS)) {
      console.log(`${name.padEnd(12)} ${s.description}`);
    }
    return;
  }
  const listener = serveDecorating(
    values.style,
    parseInteger("--port", values.port, { max: 65535 }),
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => {
      listener.close();
      Deno.exit(0);
    });
  }
}

if (import.meta.main) runMain("decorating-server", () => main(Deno.args));
