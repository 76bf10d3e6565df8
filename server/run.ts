/**
 * Running the server as a program: logging, listening with errors a user
 * reads, and stopping cleanly on SIGINT or SIGTERM. `server/main.ts` runs
 * a lone server with it; a cluster node (`cluster/node.ts`) adds its bus.
 *
 * @module
 */

import { type ChatServer, listen } from "./chat_server.ts";
import type { ServerArgs } from "./cli.ts";
import { Logger } from "./logger.ts";
import type { MetricFamily } from "./metrics.ts";
import type { Room, RoomMember } from "./room.ts";

/** Something joined to the server's room for its lifetime (a cluster bus). */
export interface RoomExtension {
  /** Called once the server listens, before any client joins. */
  attach<M extends RoomMember>(room: Room<M>): void;
  /** Called on shutdown, after the server has closed its clients. */
  close(): Promise<unknown>;
  /** Metric families for `/metrics`, if it has any. */
  metrics?(): MetricFamily[];
}

/** Options for {@linkcode runServer}. */
export interface RunServerOptions {
  /**
   * Made before the server listens (so every line of every client reaches
   * it); a rejection is the program's one-line error.
   *
   * @default {undefined (a lone server)}
   */
  extend?: (logger: Logger) => Promise<RoomExtension>;
}

/**
 * Runs a server with `args` until SIGINT or SIGTERM, then shuts it down,
 * flushes the log (for at most a second: a stdout nobody reads must not
 * keep a stopped server alive) and exits 0. Listening errors are thrown
 * as one-line errors for `runMain`.
 *
 * @example
 * ```ts ignore
 * import { parseServerArgs } from "./cli.ts";
 * import { runServer } from "./run.ts";
 * await runServer(parseServerArgs(["--port", "0"]));
 * ```
 */
export async function runServer(
  args: ServerArgs,
  options: RunServerOptions = {},
): Promise<void> {
  const logger = new Logger({ format: args.log, quiet: args.quiet });
  // A bug in one connection's handling must never take the room down.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logger.event("internal-error", { error: String(event.reason) });
  });
  const running: { server?: ChatServer; extension?: RoomExtension } = {};
  // Installed before listening: a SIGTERM that comes as soon as the port
  // is open (a supervisor, a test) is a clean stop too.
  const stop = async () => {
    try {
      await running.server?.shutdown();
      await running.extension?.close();
    } finally {
      await logger.flush(1000);
      Deno.exit(0);
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const tls = args.tlsCert === undefined ? undefined : {
    cert: readPem("--tls-cert", args.tlsCert),
    key: readPem("--tls-key", args.tlsKey!),
  };
  const extension = running.extension = await options.extend?.(logger);
  try {
    running.server = await listen({
      ...args,
      tls,
      logger,
      extraMetrics: extension?.metrics?.bind(extension),
    });
  } catch (error) {
    await extension?.close();
    throw listenError(args, error);
  }
  extension?.attach(running.server.room);
}

/** Reads a PEM file named by `flag`, or says in one line why it cannot. */
function readPem(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(
      `${flag}: cannot read ${path}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
}

/** Says why listening failed, in one line. */
function listenError(args: ServerArgs, error: unknown): Error {
  const where = `${args.hostname}:${args.port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new Error(`${where} is already in use`);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new Error(`not allowed to listen on ${where}`);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new Error(`${args.hostname} is not an address of this machine`);
  }
  return new Error(
    `cannot listen on ${where}: ${
      error instanceof Error ? error.message : error
    }`,
  );
}
