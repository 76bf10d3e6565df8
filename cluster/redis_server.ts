/**
 * A local `redis-server` process for tests and `deno task cluster
 * --start-redis`: loopback only, no persistence, a temporary directory.
 *
 * @module
 */

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

  readonly #options: RedisServerOptions;
  readonly #ownsDir: boolean;
  #process: Deno.ChildProcess | undefined;

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
    this.#options = options;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the process and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    const command = this.#options.command ?? "redis-server";
    this.#process = new Deno.Command(command, {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        "--logfile",
        `${this.dir}/redis.log`,
        "--daemonize",
        "no",
        ...(this.#options.args ?? []),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const exited = this.#process.status.then(() => true);
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 5000);
    while (Date.now() < deadline) {
      if (await Promise.race([exited, delay(0).then(() => false)])) break;
      try {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.port,
        });
        conn.close();
        return;
      } catch {
        await delay(20);
      }
    }
    const process = this.#process;
    this.#process = undefined;
    try {
      process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await process.status;
    let log = "";
    try {
      log = Deno.readTextFileSync(`${this.dir}/redis.log`);
    } catch {
      // No log written.
    }
    const reason = log.trim().split("\n").slice(-2).join(" / ");
    throw new Error(
      `redis-server did not start on 127.0.0.1:${this.port}: ${
        reason || "timed out"
      }`,
    );
  }

  /** Crashes it (SIGKILL) and waits until it is gone. */
  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  /**
   * Pauses it (SIGSTOP), as a stalled Redis: connections stay open and
   * the kernel still accepts what is sent, but nothing is answered.
   */
  pause(): void {
    this.#process?.kill("SIGSTOP");
  }

  /** Resumes it after {@linkcode pause} (SIGCONT). */
  resume(): void {
    this.#process?.kill("SIGCONT");
  }

  /** Starts it again on the same port after {@linkcode kill}. */
  async restart(): Promise<void> {
    await this.start();
  }

  /** Stops it (SIGTERM) and removes the directory it made. */
  async stop(): Promise<void> {
    await this.#end("SIGTERM");
    if (this.#ownsDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #end(signal: Deno.Signal): Promise<void> {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    try {
      // A paused process only acts on SIGKILL; let it act on SIGTERM too.
      if (signal !== "SIGKILL") process.kill("SIGCONT");
      process.kill(signal);
    } catch {
      // Already exited.
    }
    await process.status;
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

/** A loopback port free right now (another process may take it later). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
