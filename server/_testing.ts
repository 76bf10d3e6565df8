// Helpers for tests that run a real server on a loopback port.

import { type ChatClient, connect } from "../client/chat_client.ts";
import { ChatServer, type ChatServerOptions, listen } from "./chat_server.ts";
import type { Transport, TransportSink } from "./transport.ts";
import { Logger } from "./logger.ts";
import { waitFor } from "../_testing/wait.ts";
import {
  type ServerProcess,
  startServer as startProcess,
} from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";

export { waitFor };
/** A masked client frame (FIN set), as a browser sends it. */
export { clientFrame } from "../protocol/websocket_frames.ts";

/** A server on a free port with its log captured in `log`. */
export interface TestServer extends AsyncDisposable {
  server: ChatServer;
  log: string[];
  port: number;
  /** Connects `n` clients and waits until the server has admitted them all. */
  clients(n: number): Promise<ChatClient[]>;
}

/** The transports every server test runs over. */
export const TRANSPORTS = ["deno", "node"] as const;

/** Registers `fn` as one test per transport, named `name [transport]`. */
export function transportTest(
  name: string,
  fn: (transport: typeof TRANSPORTS[number]) => Promise<void>,
): void {
  for (const transport of TRANSPORTS) {
    Deno.test(`${name} [${transport}]`, () => fn(transport));
  }
}

/** Starts a server on port 0; `await using` shuts it down. */
export async function startServer(
  options: ChatServerOptions = {},
): Promise<TestServer> {
  const log: string[] = [];
  const server = await listen({
    port: 0,
    logger: new Logger({ format: "json", write: (line) => log.push(line) }),
    ...options,
  });
  const opened: ChatClient[] = [];
  return {
    server,
    log,
    port: server.addr.port,
    async clients(n) {
      const target = server.clientCount + n;
      const made: ChatClient[] = [];
      for (let i = 0; i < n; i++) {
        made.push(
          await connect({ port: server.addr.port }, {
            maxLineBytes: 16 * 1024 * 1024,
          }),
        );
      }
      opened.push(...made);
      await waitFor(() => server.clientCount >= target, `${target} clients`);
      return made;
    },
    async [Symbol.asyncDispose]() {
      for (const client of opened) client.close();
      await server.shutdown();
    },
  };
}

/** Reads lines until `n` have arrived, as text. */
export async function readLines(
  client: ChatClient,
  n: number,
  timeoutMs = 5000,
): Promise<string[]> {
  const lines: string[] = [];
  while (lines.length < n) {
    const line = await client.readLine({ timeoutMs });
    if (line === null) {
      throw new Error(`EOF after ${lines.length} of ${n} lines`);
    }
    lines.push(line.text);
  }
  return lines;
}

/**
 * A raw client that reads as fast as it can and keeps only the lines that
 * start with `keep` (others are counted): how the flood tests read a room
 * without becoming slow consumers themselves.
 */
export interface FastReader {
  conn: Deno.TcpConn;
  /** Lines kept, as text, in arrival order. */
  kept: string[];
  /** Every line received, kept or not. */
  lines: number;
  /** Set once the server closed the connection. */
  closed: boolean;
  /** Resolves when reading has stopped. */
  done: Promise<void>;
}

/** Connects a {@linkcode FastReader} to `port`. */
export async function fastReader(
  port: number,
  keep = "p",
): Promise<FastReader> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const keepByte = keep.charCodeAt(0);
  const decoder = new TextDecoder();
  const splitter = new LineSplitter({ maxLineBytes: 1 << 20 });
  const reader: FastReader = {
    conn,
    kept: [],
    lines: 0,
    closed: false,
    done: Promise.resolve(),
  };
  const onSpan = (bytes: Uint8Array, start: number, end: number) => {
    reader.lines++;
    if (bytes[start] === keepByte) {
      reader.kept.push(decoder.decode(bytes.subarray(start, end)));
    }
  };
  reader.done = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        splitter.pushSpans(buffer.subarray(0, n), onSpan);
      }
    } catch {
      // Reset, or closed by the test.
    }
    reader.closed = true;
  })();
  return reader;
}

/** A server run as a user runs it, in its own process. */
export interface SpawnedServer extends AsyncDisposable {
  process: ServerProcess;
  port: number;
  /** Every line the server logged so far. */
  log: string[];
}

const MAIN = new URL("./main.ts", import.meta.url).pathname;

/**
 * Starts `deno run -A server/main.ts --port {port} …args` on a free port,
 * collecting its log as it comes (so a full pipe never stalls it);
 * `await using` stops it with SIGTERM.
 */
export async function spawnServer(args: string[]): Promise<SpawnedServer> {
  const log: string[] = [];
  const process = await startProcess({
    command: shellJoin([Deno.execPath(), "run", "-A", MAIN, ...args]) +
      " --port {port}",
    onLine: (line) => log.push(line),
  });
  return {
    process,
    port: process.port,
    log,
    async [Symbol.asyncDispose]() {
      await process.stop();
    },
  };
}

/**
 * Runs a client in its own process that writes `line`, `linesPerWrite`
 * at a time (by default as many as fill 64 KiB), to `port` as fast as it
 * can for `ms`; resolves with how many bytes it wrote, or
 * `error <message>` if the server cut it.
 */
export function spawnFlooder(
  port: number,
  ms: number,
  line = "f\n",
  linesPerWrite = Math.ceil(65536 / line.length),
): Promise<string> {
  const script = `
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ${port} });
    conn.setNoDelay(true);
    const bytes = new TextEncoder().encode(
      ${JSON.stringify(line)}.repeat(${linesPerWrite}),
    );
    let written = 0;
    // A paused flooder's write blocks: the timer ends it regardless.
    setTimeout(() => {
      console.log(written);
      Deno.exit(0);
    }, ${ms});
    try {
      // A partial write is finished before the next: a line is never cut.
      for (;;) {
        for (let at = 0; at < bytes.length;) {
          const n = await conn.write(bytes.subarray(at));
          at += n;
          written += n;
        }
      }
    } catch (error) {
      console.log("error " + error.message);
      Deno.exit(0);
    }`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).output().then((out) => new TextDecoder().decode(out.stdout).trim());
}

/**
 * A transport the test drives by hand: `sink` receives what the test
 * pushes, and writes either complete at once or, while `blocked`, never
 * (a client that stopped reading, without kernel buffers in between).
 */
export class FakeTransport implements Transport {
  readonly remoteAddr: string;
  readonly remoteHost: string;
  readonly kind = "tcp" as const;
  sink: TransportSink | undefined;
  blocked = false;
  paused = false;
  closed = false;
  /** Bytes handed to `write`, in order. */
  readonly written: Uint8Array[] = [];

  constructor(host = "10.0.0.1", port = 1000) {
    this.remoteHost = host;
    this.remoteAddr = `${host}:${port}`;
  }

  start(sink: TransportSink): void {
    this.sink = sink;
  }

  /** Hands `text` to the server as one chunk read from this client. */
  send(text: string | Uint8Array): void {
    this.sink!.receive(
      typeof text === "string" ? new TextEncoder().encode(text) : text,
    );
  }

  write(bytes: Uint8Array): Promise<number> {
    this.written.push(bytes.slice());
    return this.blocked
      ? new Promise<number>(() => {})
      : Promise.resolve(bytes.length);
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
  }

  close(): void {
    this.closed = true;
  }
}

/** A server whose connections are {@linkcode FakeTransport}s. */
export function fakeServer(
  options: ChatServerOptions = {},
): {
  server: ChatServer;
  log: string[];
  connect(t?: FakeTransport): FakeTransport;
} {
  const log: string[] = [];
  let onConnection: (transport: Transport) => void = () => {};
  const server = new ChatServer(
    {
      logger: new Logger({ format: "json", write: (line) => log.push(line) }),
      shutdownGraceMs: 100,
      ...options,
    },
    (callbacks) => {
      onConnection = callbacks.onConnection;
      return {
        addr: { hostname: "10.0.0.254", port: 7687 },
        close: () => Promise.resolve(),
      };
    },
  );
  return {
    server,
    log,
    connect(transport = new FakeTransport()) {
      onConnection(transport);
      return transport;
    },
  };
}

/** A WebSocket client for tests (Deno's own), with what it received. */
export interface TestWebSocket {
  socket: WebSocket;
  /** Messages received: text as strings, binary as bytes. */
  received: (string | Uint8Array)[];
  /** Resolves with the close code and reason once closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket to `url` and waits until it is open. */
export async function openWebSocket(url: string): Promise<TestWebSocket> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const received: (string | Uint8Array)[] = [];
  socket.onmessage = (event) =>
    received.push(
      typeof event.data === "string" ? event.data : new Uint8Array(event.data),
    );
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener(
      "close",
      (event) => resolve({ code: event.code, reason: event.reason }),
    )
  );
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot open ${url}`));
  });
  return { socket, received, closed };
}

/**
 * A raw connection that does the WebSocket handshake on `/ws` and then
 * reads only when asked: to send frames a browser would never send, and
 * to be a WebSocket client that stops reading.
 */
export async function rawWebSocket(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    ),
  );
  const buffer = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during the handshake");
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(head.split("\r\n")[0]);
  return conn;
}
