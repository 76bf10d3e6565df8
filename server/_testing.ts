// Helpers for tests that run a real server on a loopback port.

import { type ChatClient, connect } from "../client/chat_client.ts";
import {
  type ChatServer,
  type ChatServerOptions,
  listen,
} from "./chat_server.ts";
import { Logger } from "./logger.ts";
import { waitFor } from "../_testing/wait.ts";

export { waitFor };

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
