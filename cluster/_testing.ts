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
import { redisServerAvailable } from "./redis_server.ts";

/** Whether redis-server can be run here. */
export const REDIS_AVAILABLE: boolean = redisServerAvailable();

/**
 * Registers a test that needs redis-server: run when it is installed;
 * otherwise failed with a clear message if LINECHAT_REQUIRE_TOOLS=1 (CI),
 * else ignored with "(skipped: redis-server not installed)" in its name.
 */
export function redisTest(name: string, fn: () => Promise<void>): void {
  if (REDIS_AVAILABLE) {
    // node-redis keeps timers and sockets briefly after close.
    Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
  } else if (Deno.env.get("LINECHAT_REQUIRE_TOOLS") === "1") {
    Deno.test(name, () => {
      throw new Error(
        "redis-server is not installed, and LINECHAT_REQUIRE_TOOLS=1 " +
          "requires it (apt-get install redis-server)",
      );
    });
  } else {
    Deno.test({
      name: `${name} (skipped: redis-server not installed)`,
      ignore: true,
      fn,
    });
  }
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

/** Waits until `condition()` holds, polling; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
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
