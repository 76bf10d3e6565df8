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
  const events: LoggedEvent[] = [];
  const logger = new Logger({
    format: "json",
    write: (line) => events.push(JSON.parse(line)),
  });
  const bus = await connectRedisBus({
    url,
    logger,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...options,
  });
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
