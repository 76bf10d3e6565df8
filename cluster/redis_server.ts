/**
 * A local `redis-server` process for tests and `deno task cluster
 * --start-redis`: loopback only, no persistence, a temporary directory.
 *
 * @module
 */

import { freePort } from "../lib/free_port.ts";
import { ServerProcess, SpawnError } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";

/** Options for {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Port to listen on (loopback only); `0` picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Working directory (log file); a new temporary directory, removed by
   * {@linkcode RedisServer.stop}, when not given.
   *
   * @default {undefined}
   */
  dir?: string;
  /**
   * The `redis-server` program.
   *
   * @default {"redis-server"}
   */
  command?: string;
  /**
   * More configuration, as `redis-server` arguments, e.g.
   * `["--client-output-buffer-limit", "pubsub 64mb 16mb 60"]`.
   *
   * @default {[]}
   */
  args?: string[];
  /**
   * How long to wait for it to accept connections.
   *
   * @default {5000}
   */
  startTimeoutMs?: number;
}

/**
 * A running `redis-server`. It can be crashed ({@linkcode kill}) and
 * started again on the same port ({@linkcode restart}), or paused
 * ({@linkcode pause}) and resumed, as the tests do.
 *
 * @example
 * ```ts ignore
 * import { startRedisServer } from "./redis_server.ts";
 * const redis = await startRedisServer();
 * console.log(redis.url); // redis://127.0.0.1:<port>
 * await redis.stop();
 * ```
 */
export class RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Its working directory (holds `redis.log`). */
  readonly dir: string;

  readonly #ownsDir: boolean;
  readonly #process: ServerProcess;

  /** Use {@linkcode startRedisServer}. */
  constructor(
    port: number,
    dir: string,
    ownsDir: boolean,
    options: RedisServerOptions,
  ) {
    this.port = port;
    this.dir = dir;
    this.url = `redis://127.0.0.1:${port}`;
    this.#ownsDir = ownsDir;
    this.#process = new ServerProcess({
      command: shellJoin([
        options.command ?? "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--logfile",
        `${dir}/redis.log`,
        "--daemonize",
        "no",
        ...(options.args ?? []),
      ]),
      port,
      cwd: dir,
      readyTimeoutMs: options.startTimeoutMs ?? 5000,
      // Its owner (the cluster launcher, a test) decides when it stops.
      handleSignals: false,
    });
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#process.alive;
  }

  /**
   * Starts the process and waits until it listens: it itself, so another
   * Redis already on the port is an error here, not a silent success.
   */
  async start(): Promise<void> {
    if (this.running) return;
    try {
      await this.#process.start();
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      let log = "";
      try {
        log = Deno.readTextFileSync(`${this.dir}/redis.log`);
      } catch {
        // No log written.
      }
      const reason = log.trim().split("\n").slice(-2).join(" / ");
      throw new Error(
        `redis-server did not start on 127.0.0.1:${this.port}: ${
          reason || error.message
        }`,
      );
    }
  }

  /** Crashes it (SIGKILL) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#process.kill("SIGKILL");
    await this.#process.exited;
  }

  /**
   * Pauses it (SIGSTOP), as a stalled Redis: connections stay open and
   * the kernel still accepts what is sent, but nothing is answered.
   */
  pause(): void {
    this.#process.signal("SIGSTOP");
  }

  /** Resumes it after {@linkcode pause} (SIGCONT). */
  resume(): void {
    this.#process.signal("SIGCONT");
  }

  /** Starts it again on the same port after {@linkcode kill}. */
  async restart(): Promise<void> {
    await this.start();
  }

  /** Stops it (SIGTERM) and removes the directory it made. */
  async stop(): Promise<void> {
    // A paused process only acts on SIGKILL; let it act on SIGTERM too.
    this.resume();
    await this.#process.stop();
    if (this.#ownsDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts a `redis-server` on loopback with no persistence and waits until
 * it accepts connections; see {@linkcode RedisServerOptions}.
 *
 * @example
 * ```ts ignore
 * import { startRedisServer } from "./redis_server.ts";
 * await using redis = await startRedisServer({ port: 0 });
 * console.log(redis.url);
 * ```
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const port = options.port || freePort();
  const ownsDir = options.dir === undefined;
  const dir = options.dir ??
    await Deno.makeTempDir({ prefix: "linechat-redis-" });
  const server = new RedisServer(port, dir, ownsDir, options);
  try {
    await server.start();
  } catch (error) {
    if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  return server;
}
