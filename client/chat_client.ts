/**
 * The client library: connect to any line-chat server, send lines or raw
 * bytes, and read the lines it relays. The terminal client, the tests, the
 * conformance suite and the load tools all use it.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import { type Endpoint, parseEndpoint } from "../lib/endpoint.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { WebSocketConn } from "./websocket_conn.ts";

const LF = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line received from the server. */
export class ReceivedLine {
  /** The line's bytes, terminator excluded (a copy the caller owns). */
  readonly bytes: Uint8Array;
  /** Whether the server ended it with CR LF (else LF alone). */
  readonly crlf: boolean;

  /** Wraps received bytes. */
  constructor(bytes: Uint8Array, crlf: boolean) {
    this.bytes = bytes;
    this.crlf = crlf;
  }

  /** The bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  get text(): string {
    return decoder.decode(this.bytes);
  }
}

/** Raised by {@linkcode ChatClient.readLine} when its timeout passes. */
export class ReadTimeoutError extends Error {
  /** Creates the error for a wait of `ms` milliseconds. */
  constructor(ms: number) {
    super(`no line arrived within ${ms} ms`);
    this.name = "ReadTimeoutError";
  }
}

/** Options for {@linkcode connect}. */
export interface ConnectOptions {
  /**
   * Server address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Server port.
   *
   * @default {7687}
   */
  port?: number;
  /**
   * Longest line accepted from the server; longer ones are skipped and
   * counted in {@linkcode ChatClient.skippedLines}.
   *
   * @default {1048576}
   */
  maxLineBytes?: number;
  /**
   * Size of the read buffer.
   *
   * @default {16384}
   */
  readBufferBytes?: number;
  /**
   * Speak TLS (a target written `tls://host:port` sets it).
   *
   * @default {false}
   */
  tls?: boolean;
  /**
   * Certificates (PEM) to trust besides the system's, for `tls`, e.g. a
   * private CA's.
   *
   * @default {[]}
   */
  caCerts?: string[];
  /**
   * Speak WebSocket (PROTOCOL.md §6) at this path: one message per line,
   * over TLS too when `tls` is set (a target written `ws://host:port/path`
   * or `wss://…` sets it).
   *
   * @default {undefined: the line protocol over TCP}
   */
  webSocketPath?: string;
  /**
   * How long a WebSocket server may take to answer the upgrade.
   *
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
}

/**
 * The connection a {@linkcode ChatClient} reads and writes: a TCP or TLS
 * `Deno.Conn`, or a {@linkcode WebSocketConn}.
 */
export type LineConn = Pick<
  Deno.Conn,
  "read" | "write" | "closeWrite" | "close" | "localAddr" | "remoteAddr"
>;

/** Options for {@linkcode ChatClient.readLine}. */
export interface ReadLineOptions {
  /**
   * Give up after this many milliseconds with a
   * {@linkcode ReadTimeoutError}; the read in progress is kept for the next
   * call, so no bytes are lost.
   *
   * @default {undefined} (wait for ever)
   */
  timeoutMs?: number;
}

/**
 * A connection to a line-chat server.
 *
 * Reading is pull-based: bytes are read from the socket only while
 * {@linkcode readLine} (or {@linkcode lines}) is waiting, so a client that
 * stops calling it really stops reading (which is how a slow consumer is
 * simulated). Writes are serialised and always complete.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./chat_client.ts";
 *
 * const alice = await connect("127.0.0.1:7687");
 * const bob = await connect("127.0.0.1:7687");
 * await alice.send("hello");
 * console.log((await bob.readLine({ timeoutMs: 1000 }))?.text); // "hello"
 * alice.close();
 * bob.close();
 * ```
 */
export class ChatClient {
  /** The underlying connection. */
  readonly conn: LineConn;
  /** Lines skipped for exceeding `maxLineBytes`. */
  skippedLines = 0;
  /** Bytes read from the server. */
  bytesReceived = 0;

  readonly #splitter: LineSplitter;
  readonly #buffer: Uint8Array;
  #ready: ReceivedLine[] = [];
  #readyHead = 0;
  #reading: Promise<void> | undefined;
  #eof = false;
  #error: unknown;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  /** Wraps an open connection; most code calls {@linkcode connect}. */
  constructor(conn: LineConn, options: ConnectOptions = {}) {
    this.conn = conn;
    this.#splitter = new LineSplitter({
      maxLineBytes: options.maxLineBytes ?? 1024 * 1024,
    });
    this.#buffer = new Uint8Array(options.readBufferBytes ?? 16 * 1024);
  }

  /** Whether the server closed its side (all lines before it were read). */
  get eof(): boolean {
    return this.#eof && this.#readyHead === this.#ready.length;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** This end's address, `host:port`. */
  get localAddr(): string {
    const { hostname, port } = this.conn.localAddr as Deno.NetAddr;
    return `${hostname}:${port}`;
  }

  /**
   * Sends one line: `line` followed by LF. A string is encoded as UTF-8.
   * Throws a `RangeError` if it contains an LF (use {@linkcode write} for
   * raw bytes).
   */
  send(line: string | Uint8Array): Promise<void> {
    return this.sendMany([line]);
  }

  /** Sends several lines in one write, each followed by LF. */
  sendMany(lines: Iterable<string | Uint8Array>): Promise<void> {
    const parts = [...lines].map((line) =>
      typeof line === "string" ? encoder.encode(line) : line
    );
    let size = 0;
    for (const part of parts) {
      if (part.includes(LF)) {
        throw new RangeError(
          "a line cannot contain LF; use write() for raw bytes",
        );
      }
      size += part.length + 1;
    }
    const out = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
      out[offset++] = LF;
    }
    return this.write(out);
  }

  /**
   * Writes raw bytes exactly as given (no terminator added), resolving when
   * all are written. Writes never interleave.
   */
  write(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    const next = this.#writing.then(async () => {
      let offset = 0;
      while (offset < data.length) {
        offset += await this.conn.write(data.subarray(offset));
      }
    });
    // A failed write must not poison the ones after it.
    this.#writing = next.catch(() => {});
    return next;
  }

  /**
   * The next line from the server, or `null` once the server has closed
   * the connection and every line before that was returned. A connection
   * reset rejects with `Deno.errors.ConnectionReset`.
   */
  async readLine(options: ReadLineOptions = {}): Promise<ReceivedLine | null> {
    const deadline = options.timeoutMs === undefined
      ? undefined
      : Date.now() + options.timeoutMs;
    while (this.#readyHead === this.#ready.length) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#eof) return null;
      this.#reading ??= this.#fill();
      if (deadline === undefined) {
        await this.#reading;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new ReadTimeoutError(options.timeoutMs!);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        this.#reading.then(() => false),
        new Promise<boolean>((resolve) =>
          timer = setTimeout(resolve, left, true)
        ),
      ]);
      clearTimeout(timer);
      if (timedOut) throw new ReadTimeoutError(options.timeoutMs!);
    }
    const line = this.#ready[this.#readyHead++];
    if (this.#readyHead === this.#ready.length) {
      this.#ready = [];
      this.#readyHead = 0;
    }
    return line;
  }

  /** Iterates the server's lines until it closes the connection. */
  async *lines(options: ReadLineOptions = {}): AsyncGenerator<ReceivedLine> {
    let line: ReceivedLine | null;
    while ((line = await this.readLine(options)) !== null) yield line;
  }

  /**
   * After the server closed: the bytes of an unterminated last line, if
   * any (a protocol violation worth reporting).
   */
  takeUnterminated(): Uint8Array {
    return this.#splitter.takePartial();
  }

  /** Half-closes: sends FIN after pending writes; reading goes on. */
  async closeWrite(): Promise<void> {
    await this.#writing;
    await this.conn.closeWrite();
  }

  /** Closes the connection; pending reads end, errors are swallowed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  /** Reads once and frames what arrived. Shared by concurrent waiters. */
  async #fill(): Promise<void> {
    try {
      const n = await this.conn.read(this.#buffer);
      if (n === null) {
        this.#eof = true;
        return;
      }
      this.bytesReceived += n;
      this.#splitter.push(
        this.#buffer.subarray(0, n),
        (line, crlf) => this.#ready.push(new ReceivedLine(line.slice(), crlf)),
        () => this.skippedLines++,
      );
    } catch (error) {
      if (this.#closed) this.#eof = true;
      else this.#error = error;
    } finally {
      this.#reading = undefined;
    }
  }
}

/**
 * Connects to a line-chat server at `target`: `"host:port"`,
 * `"tls://host:port"`, `"ws://host:port/path"`, `"wss://…"`, an
 * `Endpoint` (see `lib/endpoint.ts`) or options. Rejects with
 * `Deno.errors.ConnectionRefused` and the like, for TLS with the
 * handshake's error (an untrusted certificate, a server that is not TLS),
 * for WebSocket when the server refuses the upgrade.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./chat_client.ts";
 * const client = await connect({ hostname: "127.0.0.1", port: 7687 });
 * await client.send("hi");
 * client.close();
 * const web = await connect("ws://127.0.0.1:7688/ws");
 * console.log((await web.readLine({ timeoutMs: 1000 }))?.text); // "hi" from others
 * web.close();
 * ```
 */
export async function connect(
  target: string | Endpoint | Target | ConnectOptions,
  options: ConnectOptions = {},
): Promise<ChatClient> {
  let where: ConnectOptions;
  if (typeof target === "string" || "kind" in target) {
    const endpoint = typeof target === "string"
      ? parseEndpoint(target)
      : target as Endpoint;
    where = {
      hostname: endpoint.hostname,
      port: endpoint.port,
      tls: endpoint.kind === "tls" || endpoint.kind === "wss",
      webSocketPath: endpoint.path || undefined,
    };
  } else {
    where = target;
  }
  const settings: ConnectOptions = { ...where, ...options };
  const hostname = settings.hostname ?? "127.0.0.1";
  const port = settings.port ?? 7687;
  const tcp = await Deno.connect({ hostname, port, transport: "tcp" });
  tcp.setNoDelay(true);
  let conn: Deno.Conn = tcp;
  if (settings.tls) {
    const secure = await Deno.startTls(tcp, {
      hostname,
      caCerts: settings.caCerts,
    });
    try {
      await secure.handshake();
    } catch (error) {
      secure.close();
      throw error;
    }
    conn = secure;
  }
  if (settings.webSocketPath === undefined) {
    return new ChatClient(conn, settings);
  }
  const host = hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
  const ws = await WebSocketConn.open(conn, {
    host,
    path: settings.webSocketPath,
    maxMessageBytes: settings.maxLineBytes ?? 1024 * 1024,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
  });
  return new ChatClient(ws, settings);
}
