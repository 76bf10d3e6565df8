/**
 * What one conformance run talks to: the endpoints given with `--target`,
 * or a server the harness spawns (`--spawn`) and the endpoints that
 * `--target` templates (`{port}`, `{port+N}`) name at the ports of its
 * current start, so they follow the server across restarts.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import {
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
} from "../lib/endpoint.ts";
import { ServerProcess, SpawnError } from "../lib/server_process.ts";
import { fillPorts } from "../lib/shell.ts";
import { describeError } from "./describe_error.ts";
import { formatDuration } from "./duration.ts";
import { escapeOutput } from "./escape.ts";
import { HarnessError } from "./run_options.ts";

/** How {@linkcode RunTargets.open} finds or starts the run's targets. */
export interface RunTargetsOptions {
  /**
   * A shell command that starts the server under test, with `{port}`.
   *
   * @default {undefined}
   */
  spawn?: string;
  /**
   * `HOST:PORT` or `ws://…` endpoints; with `spawn`, templates naming the
   * server's ports as `{port}` or `{port+N}`.
   *
   * @default {["127.0.0.1:{port}"] with spawn, else none}
   */
  targets?: readonly (string | Target)[];
  /**
   * The spawned server's working directory.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /** How long a spawned server may take to listen, in ms. */
  readyTimeoutMs: number;
  /**
   * Refuse a run with no plain TCP endpoint (`--fuzz` writes raw
   * segments).
   *
   * @default {false}
   */
  needsTcp?: boolean;
}

/**
 * The run's endpoints, and its spawned server if there is one.
 *
 * @example
 * ```ts ignore
 * import { RunTargets } from "./run_targets.ts";
 *
 * const run = await RunTargets.open({
 *   spawn: "deno run -A server/main.ts --port {port}",
 *   readyTimeoutMs: 15_000,
 * });
 * console.log(run.names); // ["127.0.0.1:40123"]
 * await run.stop();
 * ```
 */
export class RunTargets {
  /** The server the harness started, when it did (`--spawn`). */
  readonly server: ServerProcess | undefined;
  #endpoints: Endpoint[];
  readonly #templates: string[];

  private constructor(
    server: ServerProcess | undefined,
    endpoints: Endpoint[],
    templates: string[],
  ) {
    this.server = server;
    this.#endpoints = endpoints;
    this.#templates = templates;
  }

  /**
   * Checks the targets and starts the server to spawn; throws
   * {@linkcode HarnessError} with a one-line reason when it cannot.
   */
  static async open(options: RunTargetsOptions): Promise<RunTargets> {
    const { spawn, targets = [] } = options;
    if (spawn === undefined) {
      if (targets.length === 0) {
        throw new HarnessError(
          "no target: give --target host:port or --spawn",
        );
      }
      return new RunTargets(undefined, checked(targets, options), []);
    }
    if (!spawn.includes("{port}")) {
      throw new HarnessError(
        `--spawn: the command must contain {port} (got "${spawn}")`,
      );
    }
    const templates = targets.length === 0
      ? ["127.0.0.1:{port}"]
      : targets.map((t) =>
        typeof t === "string"
          ? t
          : formatEndpoint({ kind: "tcp", path: "", ...t })
      );
    for (const template of templates) {
      if (!/\{port(\+\d+)?\}/.test(template)) {
        throw new HarnessError(
          `--target ${template}: with --spawn, name the server's ports as {port} or {port+N}`,
        );
      }
    }
    checked(templates.map((t) => fillPorts(t, 1)), options);
    // Ready once its port is in /proc/net/tcp: no probe connection,
    // which some servers would count as a client that came and went.
    const server = new ServerProcess({
      command: spawn,
      cwd: options.cwd,
      readyTimeoutMs: options.readyTimeoutMs,
    });
    try {
      await server.start();
    } catch (error) {
      throw new HarnessError(
        escapeOutput(
          error instanceof SpawnError ? error.message : describeError(error),
        ),
      );
    }
    const run = new RunTargets(server, [], templates);
    run.#resolve();
    return run;
  }

  /** The endpoints, at the spawned server's current ports. */
  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  /** The endpoints as the report names them. */
  get names(): string[] {
    return this.#endpoints.map(formatEndpoint);
  }

  /**
   * Restarts the spawned server within `timeoutMs` (it is killed if it is
   * not listening again by then) and moves the endpoints to its new
   * ports; throws with the reason when it cannot.
   */
  async restart(timeoutMs: number): Promise<void> {
    const server = this.server!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      server.restart().then(() => true),
      new Promise<false>((resolve) =>
        timer = setTimeout(resolve, Math.max(0, timeoutMs), false)
      ),
    ]).finally(() => clearTimeout(timer));
    if (!done) {
      server.kill("SIGKILL");
      throw new Error(
        `it was not listening again within ${formatDuration(timeoutMs)}`,
      );
    }
    this.#resolve();
  }

  /** Stops the spawned server, if any. */
  async stop(): Promise<void> {
    await this.server?.stop();
  }

  #resolve(): void {
    const port = this.server!.port;
    this.#endpoints = parse(this.#templates.map((t) => fillPorts(t, port)));
  }
}

function checked(
  targets: readonly (string | Target)[],
  options: RunTargetsOptions,
): Endpoint[] {
  const endpoints = parse(targets);
  if (options.needsTcp && !endpoints.some((t) => t.kind === "tcp")) {
    throw new HarnessError(
      options.spawn === undefined
        ? "--fuzz speaks plain TCP: give a HOST:PORT target too (or --spawn)"
        : "--fuzz speaks plain TCP: add a --target 127.0.0.1:{port} too",
    );
  }
  return endpoints;
}

function parse(targets: readonly (string | Target)[]): Endpoint[] {
  try {
    return targets.map((t) =>
      typeof t === "string"
        ? parseEndpoint(t)
        : { kind: "tcp" as const, path: "", ...t }
    );
  } catch (error) {
    throw new HarnessError(describeError(error).replace(/^\w+: /, ""));
  }
}
