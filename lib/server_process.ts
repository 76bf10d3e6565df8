/**
 * A server under test as a child process: started from a command template
 * on free ports, in a process group of its own, watched (exit, output),
 * measured (`/proc`), restarted and stopped. Every tool starts servers
 * through it: the conformance suite, the matrix, `load`, `compare`,
 * `attack`, the cluster launcher and the tests.
 *
 * @module
 */

import { describeStatus } from "./exit_status.ts";
import { freePortBlock } from "./free_port.ts";
import { isListeningBy } from "./listening.ts";
import { groupMembers, type GroupSample, sampleGroup } from "./proc_stats.ts";
import { fillPorts, portsUsed } from "./shell.ts";

/** Raised when a server cannot be started; its message is one line. */
export class SpawnError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SpawnError";
  }
}

/**
 * How to tell that a started server is ready:
 *
 * - `"listening"`: a process of its group holds a socket listening on
 *   each of its ports (`/proc/net/tcp` and `/proc/<pid>/fd`), so neither
 *   a probe (which some servers notice) nor another process already on
 *   the port (which would answer a probe) can fool it.
 * - `"connect"`: a connection to its first port succeeds (and is closed
 *   at once). Works without `/proc`, but some servers notice the probe.
 * - a function, polled until it resolves true.
 */
export type Readiness =
  | "listening"
  | "connect"
  | ((server: ServerProcess) => boolean | Promise<boolean>);

/** Options for {@linkcode ServerProcess}. */
export interface ServerProcessOptions {
  /**
   * A shell command (run with `sh -c`): `{port}` is replaced by the port to
   * listen on, `{port+N}` by a port N above it (all of them free).
   */
  command: string;
  /**
   * Working directory of the command.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /**
   * Environment variables added to the inherited ones.
   *
   * @default {{ NO_COLOR: "1" }}
   */
  env?: Record<string, string>;
  /**
   * The port `{port}` stands for; free ones are found when not given.
   *
   * @default {a free port}
   */
  port?: number;
  /**
   * How readiness is checked; see {@linkcode Readiness}.
   *
   * @default {"listening"}
   */
  ready?: Readiness;
  /**
   * How long to wait for readiness.
   *
   * @default {15000}
   */
  readyTimeoutMs?: number;
  /**
   * Characters of output (stdout and stderr together) kept: the tail.
   *
   * @default {262144}
   */
  maxOutputChars?: number;
  /**
   * Whether this process's SIGINT, SIGTERM and SIGHUP stop the server and
   * exit (see {@linkcode ServerProcess}). A program that handles those
   * signals itself sets it false and stops its servers itself; the server
   * is still killed when this process exits.
   *
   * @default {true}
   */
  handleSignals?: boolean;
  /**
   * Called with each line the server prints, as it prints it (besides the
   * kept tail), e.g. to show a server's log live.
   *
   * @default {undefined}
   */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

// Every group alive in this process, killed when the process exits.
const running = new Set<ServerProcess>();
// Those of them that this process's signals stop.
const stopOnSignal = new Set<ServerProcess>();
let exitHooked = false;
let signalsHooked = false;

/** On the first start, makes sure no group outlives this process. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const server of running) server.kill("SIGKILL");
  });
}

/**
 * On SIGINT, SIGTERM or SIGHUP, stops every server started with
 * `handleSignals` (SIGTERM, then SIGKILL after 2 s) and exits as the
 * signal would have ended this process (128 + its number).
 */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  const numbers = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
  for (const [signal, number] of Object.entries(numbers)) {
    try {
      Deno.addSignalListener(signal as Deno.Signal, async () => {
        await Promise.all([...stopOnSignal].map((server) => server.stop()));
        Deno.exit(128 + number);
      });
    } catch {
      // Not supported on this platform.
    }
  }
}

/**
 * A server started on demand, in its own process group so that it and
 * anything it starts are stopped together, also when this process exits
 * or is interrupted (SIGINT, SIGTERM, SIGHUP; see `handleSignals`).
 *
 * @example
 * ```ts ignore
 * import { ServerProcess } from "./server_process.ts";
 *
 * const server = new ServerProcess({
 *   command: "deno run -A server/main.ts --port {port} --quiet",
 * });
 * await server.start();
 * console.log(server.port, await server.sample());
 * await server.stop();
 * ```
 */
export class ServerProcess {
  /** Times the server was started again after the first start. */
  restarts = 0;
  readonly #options:
    & Required<Omit<ServerProcessOptions, "port" | "onLine">>
    & Pick<ServerProcessOptions, "port" | "onLine">;
  readonly #ports: number;
  #child: Deno.ChildProcess | undefined;
  #status: Deno.CommandStatus | undefined;
  #exited: Promise<Deno.CommandStatus> = new Promise(() => {});
  #port = 0;
  #output = "";
  #outputOffset = 0;
  #pumps: Promise<void>[] = [];
  #starts = 0;

  /** Prepares the server; {@linkcode start} runs it. */
  constructor(options: ServerProcessOptions) {
    this.#options = {
      cwd: Deno.cwd(),
      env: { NO_COLOR: "1" },
      ready: "listening",
      readyTimeoutMs: 15_000,
      maxOutputChars: 256 * 1024,
      handleSignals: true,
      ...options,
    };
    this.#ports = portsUsed(options.command);
  }

  /** The first port it listens on (`{port}`). */
  get port(): number {
    return this.#port;
  }

  /** Every port it listens on: `{port}` and the `{port+N}` above it. */
  get ports(): number[] {
    return Array.from({ length: this.#ports }, (_, i) => this.#port + i);
  }

  /** Where clients connect (its first port). */
  get target(): { hostname: string; port: number } {
    return { hostname: "127.0.0.1", port: this.#port };
  }

  /** The process group id (that of the `sh` that runs the command). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the server is running. */
  get alive(): boolean {
    return this.#child !== undefined && this.#status === undefined;
  }

  /** How it exited, once it did. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Resolves when the current process exits. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#exited;
  }

  /** The command as run, with its ports filled in. */
  get command(): string {
    return fillPorts(this.#options.command, this.#port);
  }

  /**
   * Starts the server (again, on fresh ports, if it ran before) and waits
   * until it is ready. Throws {@linkcode SpawnError} if it exits first or
   * is not ready in time (and then stops it).
   */
  async start(): Promise<void> {
    if (this.alive) return;
    if (this.#starts > 0) this.restarts++;
    this.#starts++;
    this.#port = this.#options.port ?? freePortBlock(this.#ports);
    this.#status = undefined;
    hookExit();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("setsid", {
        args: ["sh", "-c", this.command],
        cwd: this.#options.cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: this.#options.env,
      }).spawn();
    } catch (error) {
      throw new SpawnError(
        `cannot run "${this.command}": ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    this.#child = child;
    running.add(this);
    if (this.#options.handleSignals) {
      stopOnSignal.add(this);
      hookSignals();
    }
    this.#pumps = [
      this.#pump(child.stdout, "stdout"),
      this.#pump(child.stderr, "stderr"),
    ];
    this.#exited = child.status.then((status) => {
      this.#status = status;
      running.delete(this);
      stopOnSignal.delete(this);
      return status;
    });
    const deadline = performance.now() + this.#options.readyTimeoutMs;
    while (!(await this.#isReady())) {
      if (this.#status !== undefined) {
        await Promise.race([Promise.all(this.#pumps), delay(500)]);
        throw new SpawnError(
          `server exited (${describeStatus(this.#status)}) before listening ` +
            `on port ${this.#port}: ${lastLine(this.#output) || "no output"}`,
        );
      }
      if (performance.now() > deadline) {
        await this.stop(500);
        throw new SpawnError(
          `server did not listen on port ${this.#port} within ` +
            `${this.#options.readyTimeoutMs} ms (command: ${this.command})`,
        );
      }
      await delay(20);
    }
  }

  /** Stops the server, then starts it afresh on new ports. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A marker for {@linkcode outputSince}. */
  outputMark(): number {
    return this.#outputOffset + this.#output.length;
  }

  /** What the server printed since `mark`, its last `maxChars` at most. */
  outputSince(mark: number, maxChars = 4096): string {
    const start = Math.max(0, mark - this.#outputOffset);
    const text = this.#output.slice(start);
    return text.length > maxChars
      ? `…${text.slice(text.length - maxChars)}`
      : text;
  }

  /** The last `maxChars` of everything the server printed. */
  outputTail(maxChars = 4096): string {
    return this.outputSince(0, maxChars);
  }

  /**
   * Sends a signal to the server: to every process of the group but the
   * shell that started it (which then exits with the server's status), or
   * to the shell itself when it is alone (it exec'd the command).
   */
  signal(signal: Deno.Signal): void {
    const pgid = this.pid;
    if (pgid === undefined || !this.alive) return;
    const members = groupMembers(pgid).filter((pid) => pid !== pgid);
    for (const pid of members.length > 0 ? members : [pgid]) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // Gone meanwhile.
      }
    }
  }

  /**
   * Sends `signal` to the whole group at once, and SIGKILL also to the
   * descendants that made groups of their own; never throws.
   */
  kill(signal: Deno.Signal): void {
    const pgid = this.#child?.pid;
    if (pgid === undefined) return;
    const others = signal === "SIGKILL" ? groupMembers(pgid) : [];
    try {
      Deno.kill(-pgid, signal);
    } catch {
      // The group is gone.
    }
    for (const pid of others) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // Gone with the group.
      }
    }
  }

  /**
   * Measures the process group: CPU time, resident memory, its peak and
   * open files, summed. `null` when it is not running.
   */
  async sample(): Promise<GroupSample | null> {
    const pgid = this.pid;
    if (pgid === undefined || !this.alive) return null;
    return await sampleGroup(pgid);
  }

  /**
   * Stops the server: SIGTERM (as {@linkcode ServerProcess.signal} sends
   * it, so the status is the server's own), then SIGKILL to the whole
   * group after `graceMs`. Resolves with how it exited (undefined if it
   * never ran).
   */
  async stop(graceMs = 2000): Promise<Deno.CommandStatus | undefined> {
    if (this.#child === undefined) return undefined;
    if (this.#status === undefined) {
      this.signal("SIGTERM");
      const exited = await Promise.race([
        this.#exited.then(() => true),
        delay(graceMs).then(() => false),
      ]);
      if (!exited) this.kill("SIGKILL");
    }
    const status = await this.#exited;
    // Children that ignored SIGTERM may still hold the pipes open.
    this.kill("SIGKILL");
    await Promise.race([Promise.all(this.#pumps), delay(1000)]);
    return status;
  }

  /** `await using` stops the server. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #isReady(): boolean | Promise<boolean> {
    const ready = this.#options.ready;
    if (typeof ready === "function") return ready(this);
    if (ready === "listening") {
      const members = groupMembers(this.pid!);
      return this.ports.every((port) => isListeningBy(port, members));
    }
    return Deno.connect({ ...this.target, transport: "tcp" }).then(
      (probe) => (probe.close(), true),
      () => false,
    );
  }

  async #pump(
    stream: ReadableStream<Uint8Array>,
    name: "stdout" | "stderr",
  ): Promise<void> {
    const decoder = new TextDecoder();
    const onLine = this.#options.onLine;
    let partial = "";
    try {
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        this.#append(text);
        if (onLine === undefined) continue;
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) onLine(line, name);
      }
    } catch {
      // The pipe broke with the process.
    }
    if (onLine !== undefined && partial !== "") onLine(partial, name);
  }

  #append(text: string): void {
    // deno-lint-ignore no-control-regex
    this.#output += text.replace(/\x1b\[[0-9;]*m/g, "");
    const excess = this.#output.length - this.#options.maxOutputChars;
    if (excess > 0) {
      this.#output = this.#output.slice(excess);
      this.#outputOffset += excess;
    }
  }
}

/**
 * Starts a server from `command` (see {@linkcode ServerProcessOptions})
 * and resolves once it is ready; `await using` stops it.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server_process.ts";
 * await using server = await startServer({ command: "ncat -l --broker 127.0.0.1 {port}" });
 * console.log(server.port);
 * ```
 */
export async function startServer(
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const server = new ServerProcess(options);
  await server.start();
  return server;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]?.slice(0, 300) ?? "";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
