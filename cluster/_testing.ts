// Helpers for the cluster tests: tests that need redis-server, nodes
// (a server and its bus) in this process, and clients that read with
// deadlines. Not re-exported.

import { type ChatClient, connect } from "../client/chat_client.ts";
import { type ChatServer, serve } from "../server/chat_server.ts";
import { type LogFields, Logger } from "../server/logger.ts";
import {
  connectRedisBus,
  type RedisBus,
  type RedisBusOptions,
} from "./redis_bus.ts";
import { encodeMessage } from "./message.ts";
import {
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from "./redis_server.ts";
import { testWithTools } from "../_testing/tools.ts";
import { waitFor } from "../_testing/wait.ts";

export { waitFor };

/**
 * Registers a test that needs redis-server (see `testWithTools`); node-redis
 * keeps timers and sockets briefly after close, hence no sanitizers.
 */
export function redisTest(name: string, fn: () => Promise<void>): void {
  testWithTools(name, ["redis-server"], fn, {
    sanitizeOps: false,
    sanitizeResources: false,
  });
}

/** A logged event, parsed back. */
export interface LoggedEvent extends LogFields {
  event: string;
}

/** A logger that keeps every event it logs, parsed, in `events`. */
export function captureLogger(): { logger: Logger; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  const logger = new Logger({
    format: "json",
    write: (line) => events.push(JSON.parse(line)),
  });
  return { logger, events };
}

/**
 * A bus message from `nodeId`, as another node would publish it: one
 * batch of one line (sender 1) per `[text, completedAt]`.
 */
export function busMessage(
  nodeId: Uint8Array,
  sequence: number,
  lineMark: number,
  ...lines: [text: string, completedAt: number][]
): Uint8Array {
  const encoder = new TextEncoder();
  return encodeMessage(
    nodeId,
    sequence,
    lines.map(([text, completedAt]) => ({
      completedAt,
      senderId: 1,
      lineCount: 1,
      batch: encoder.encode(`${text}\r\n`),
    })),
    lineMark,
  );
}

/** A server and its bus, in this process. */
export interface TestNode {
  server: ChatServer;
  bus: RedisBus;
  port: number;
  events: LoggedEvent[];
  /** Shuts the server down, then closes the bus. */
  close(): Promise<void>;
}

/** Starts a node joined to `url`: bus first, then the server. */
export async function startNode(
  url: string,
  options: Partial<RedisBusOptions> = {},
): Promise<TestNode> {
  const { logger, events } = captureLogger();
  const bus = await connectRedisBus({ url, logger, ...options });
  const server = serve({ port: 0, logger, shutdownGraceMs: 200 });
  bus.attach(server.room);
  return {
    server,
    bus,
    port: server.addr.port,
    events,
    async close() {
      await server.shutdown();
      await bus.close();
    },
  };
}

/** Starts `count` nodes of one room. */
export function startNodes(
  url: string,
  count: number,
  options: Partial<RedisBusOptions> = {},
): Promise<TestNode[]> {
  return Promise.all(
    Array.from({ length: count }, () => startNode(url, options)),
  );
}

/** Options of {@linkcode withNodes}. */
export interface WithNodesOptions {
  /** For every node's bus. */
  bus?: Partial<RedisBusOptions>;
  /** For the redis-server. */
  redis?: RedisServerOptions;
}

/**
 * Runs `body` with `count` nodes of one room on a redis-server of their
 * own, then closes the nodes (again, if `body` did) and the server.
 */
export async function withNodes(
  count: number,
  body: (nodes: TestNode[], redis: RedisServer) => Promise<void>,
  options: WithNodesOptions = {},
): Promise<void> {
  await using redis = await startRedisServer(options.redis);
  const nodes = await startNodes(redis.url, count, options.bus);
  try {
    await body(nodes, redis);
  } finally {
    await closeAll(nodes);
  }
}

/** Closes every node. */
export async function closeAll(nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.close()));
}

/** Connects a client to `node` and waits until the node has joined it. */
export async function join(node: TestNode): Promise<ChatClient> {
  const before = node.server.room.size;
  const client = await connect({ port: node.port });
  await waitFor(() => node.server.room.size > before, "client to join");
  return client;
}

/** Reads `count` lines (their bytes) within `timeoutMs`. */
export async function readLines(
  client: ChatClient,
  count: number,
  timeoutMs = 5000,
): Promise<Uint8Array[]> {
  const deadline = Date.now() + timeoutMs;
  const lines: Uint8Array[] = [];
  while (lines.length < count) {
    const line = await client.readLine({
      timeoutMs: Math.max(1, deadline - Date.now()),
    });
    if (line === null) {
      throw new Error(`connection closed after ${lines.length} lines`);
    }
    lines.push(line.bytes);
  }
  return lines;
}

/** Reads `count` lines as text. */
export async function readTexts(
  client: ChatClient,
  count: number,
  timeoutMs = 5000,
): Promise<string[]> {
  const decoder = new TextDecoder();
  return (await readLines(client, count, timeoutMs)).map((bytes) =>
    decoder.decode(bytes)
  );
}

/** Resolves with the line that arrives within `ms`, or `undefined`. */
export async function lineWithin(
  client: ChatClient,
  ms: number,
): Promise<string | undefined> {
  try {
    const line = await client.readLine({ timeoutMs: ms });
    return line === null ? "<closed>" : line.text;
  } catch (error) {
    if ((error as Error).name === "ReadTimeoutError") return undefined;
    throw error;
  }
}

/** Sleeps. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A line a {@linkcode Drain} kept: its text and when it arrived. */
export interface DrainedLine {
  text: string;
  at: number;
}

/**
 * A raw client that reads everything as fast as it comes (so a flood
 * never makes it a slow consumer) and keeps only the lines that start
 * with `watch`, with their arrival times.
 */
export interface Drain {
  conn: Deno.TcpConn;
  lines: DrainedLine[];
  /** Bytes received in all. */
  readonly bytes: number;
  /** Resolves when the connection has closed. */
  closed: Promise<void>;
}

/** Connects a {@linkcode Drain} to `node` and waits until it has joined. */
export async function joinDrain(node: TestNode, watch: string): Promise<Drain> {
  const before = node.server.room.size;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
  await waitFor(() => node.server.room.size > before, "client to join");
  const prefix = new TextEncoder().encode(watch);
  const decoder = new TextDecoder();
  const lines: DrainedLine[] = [];
  let bytes = 0;
  const closed = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    // Bytes of a watched line so far, or null inside a line not watched;
    // `start` is the line's first bytes while they are compared.
    let kept: number[] | null = [];
    let start = 0;
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      bytes += n;
      for (let i = 0; i < n; i++) {
        const byte = buffer[i];
        if (byte === 0x0a) {
          if (kept !== null && start >= prefix.length) {
            lines.push({
              text: decoder.decode(Uint8Array.from(kept)).replace(/\r$/, ""),
              at: Date.now(),
            });
          }
          kept = [];
          start = 0;
          continue;
        }
        if (kept === null) continue;
        if (start < prefix.length && byte !== prefix[start]) {
          kept = null;
          continue;
        }
        start++;
        kept.push(byte);
      }
    }
  })();
  return {
    conn,
    lines,
    get bytes() {
      return bytes;
    },
    closed,
  };
}

/** Lines `<name> <seq> <sent at>` sent every `intervalMs` until stopped. */
export interface PacedSender {
  /** When each line was sent (by its number). */
  sentAt: number[];
  /** Stops, sends `<name> end`, and resolves with how many were sent. */
  stop(): Promise<number>;
}

/**
 * Starts a {@linkcode PacedSender} writing to `conn`; `padBytes` more
 * bytes make each line longer.
 */
export function pace(
  conn: Deno.TcpConn,
  name: string,
  intervalMs = 5,
  padBytes = 0,
): PacedSender {
  const encoder = new TextEncoder();
  const sentAt: number[] = [];
  const pad = padBytes > 0 ? ` ${"p".repeat(padBytes - 1)}` : "";
  const write = async (text: string) => {
    const bytes = encoder.encode(`${text}\n`);
    for (let offset = 0; offset < bytes.length;) {
      offset += await conn.write(bytes.subarray(offset));
    }
  };
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const now = Date.now();
      sentAt.push(now);
      await write(`${name} ${sentAt.length - 1} ${now}${pad}`);
      await delay(intervalMs);
    }
  })();
  return {
    sentAt,
    async stop() {
      stopped = true;
      await running;
      await write(`${name} end`);
      return sentAt.length;
    },
  };
}

/** The numbers and lateness (arrival less sending) of paced lines. */
export function pacedLines(
  lines: DrainedLine[],
): { seqs: number[]; lateness: number[]; ended: boolean } {
  const seqs: number[] = [];
  const lateness: number[] = [];
  let ended = false;
  for (const { text, at } of lines) {
    const [, seq, sentAt] = text.split(" ");
    if (seq === "end") {
      ended = true;
      continue;
    }
    seqs.push(Number(seq));
    lateness.push(at - Number(sentAt));
  }
  return { seqs, lateness, ended };
}
