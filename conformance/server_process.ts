/**
 * `--spawn`: the server under test as a child process group the harness
 * starts on a free port, watches (exit, output) and measures (memory and
 * open files from `/proc`).
 *
 * @module
 */

import type { TargetAddress } from "./types.ts";

/** Raised when the server cannot be started; its message is one line. */
export class SpawnError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SpawnError";
  }
}

/**
 * One measurement of the server's process group from `/proc`.
 *
 * @example
 * ```ts
 * import type { ProcessSample } from "./server_process.ts";
 * const sample: ProcessSample = { rssBytes: 50e6, hwmBytes: 60e6, fds: 12, processes: 1 };
 * console.log(sample.fds);
 * ```
 */
export interface ProcessSample {
  /** Resident memory now (VmRSS), summed over the group. */
  rssBytes: number;
  /** Peak resident memory so far (VmHWM), summed over the group. */
  hwmBytes: number;
  /** Open file descriptors, summed over the group. */
  fds: number;
  /** Processes in the group. */
  processes: number;
}

/** Options for {@linkcode ServerProcess}. */
export interface ServerProcessOptions {
  /** Shell command; `{port}` is replaced by the port to listen on. */
  command: string;
  /**
   * Working directory of the command.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /**
   * How long to wait for the server to accept a connection.
   *
   * @default {15000}
   */
  readyTimeoutMs?: number;
  /**
   * Output kept (the tail), in characters.
   *
   * @default {262144}
   */
  maxOutputChars?: number;
}

/**
 * A server started by the harness, in its own process group so that it and
 * anything it started can be stopped together.
 *
 * @example
 * ```ts ignore
 * import { ServerProcess } from "./server_process.ts";
 *
 * const server = new ServerProcess({ command: "deno run -A server/main.ts --port {port}" });
 * await server.start();
 * console.log(server.target, await server.sample());
 * await server.stop();
 * ```
 */
export class ServerProcess {
  /** Times the server was started again after exiting. */
  restarts = 0;
  readonly #options: Required<ServerProcessOptions>;
  #child: Deno.ChildProcess | undefined;
  #status: Deno.CommandStatus | undefined;
  #exited: Promise<Deno.CommandStatus> = new Promise(() => {});
  #port = 0;
  #output = "";
  #outputOffset = 0;
  #pumps: Promise<void>[] = [];
  #starts = 0;
  readonly #onUnload = () => this.#killGroup("SIGKILL");

  /** Prepares the server; {@linkcode start} runs it. */
  constructor(options: ServerProcessOptions) {
    this.#options = {
      cwd: Deno.cwd(),
      readyTimeoutMs: 15_000,
      maxOutputChars: 256 * 1024,
      ...options,
    };
  }

  /** Where clients connect. */
  get target(): TargetAddress {
    return { hostname: "127.0.0.1", port: this.#port };
  }

  /** The process group id (the shell's pid), while running. */
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

  /** The command as run, with the port filled in. */
  get command(): string {
    return this.#options.command.replaceAll("{port}", String(this.#port));
  }

  /**
   * Starts the server on a free port and waits until it accepts a
   * connection. Throws {@linkcode SpawnError} if it exits first or does not
   * accept in time.
   */
  async start(): Promise<void> {
    if (this.alive) return;
    if (this.#starts > 0) this.restarts++;
    this.#starts++;
    this.#port = freePort();
    this.#status = undefined;
    const child = new Deno.Command("setsid", {
      args: ["sh", "-c", this.command],
      cwd: this.#options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#child = child;
    addEventListener("unload", this.#onUnload);
    this.#pumps = [this.#pump(child.stdout), this.#pump(child.stderr)];
    this.#exited = child.status.then((status) => {
      this.#status = status;
      return status;
    });
    const deadline = performance.now() + this.#options.readyTimeoutMs;
    while (true) {
      if (this.#status !== undefined) {
        await Promise.race([Promise.all(this.#pumps), delay(500)]);
        throw new SpawnError(
          `server exited (${describeStatus(this.#status)}) before accepting ` +
            `on port ${this.#port}: ${lastLine(this.#output) || "no output"}`,
        );
      }
      try {
        const probe = await Deno.connect({ ...this.target, transport: "tcp" });
        probe.close();
        return;
      } catch {
        // Not listening yet.
      }
      if (performance.now() > deadline) {
        await this.stop();
        throw new SpawnError(
          `server did not accept on port ${this.#port} within ` +
            `${this.#options.readyTimeoutMs} ms (command: ${this.command})`,
        );
      }
      await delay(50);
    }
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
   * shell that started it (which then exits with the server's status).
   * Falls back to the shell itself when it is alone (it exec'd).
   */
  async signal(signal: Deno.Signal): Promise<void> {
    const pgid = this.pid;
    if (pgid === undefined) return;
    const members = (await groupMembers(pgid)).filter((pid) => pid !== pgid);
    for (const pid of members.length > 0 ? members : [pgid]) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // Gone meanwhile.
      }
    }
  }

  /**
   * Measures the process group: resident memory, its peak and open files.
   * `null` when it is not running.
   */
  async sample(): Promise<ProcessSample | null> {
    const pgid = this.pid;
    if (pgid === undefined || !this.alive) return null;
    const sample: ProcessSample = {
      rssBytes: 0,
      hwmBytes: 0,
      fds: 0,
      processes: 0,
    };
    for (const pid of await groupMembers(pgid)) {
      try {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        sample.rssBytes += kilobytes(status, "VmRSS") * 1024;
        sample.hwmBytes += kilobytes(status, "VmHWM") * 1024;
        let fds = 0;
        for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
        sample.fds += fds;
        sample.processes++;
      } catch {
        // It exited between the listing and the read.
      }
    }
    return sample.processes > 0 ? sample : null;
  }

  /**
   * Stops the group: SIGTERM, then SIGKILL after `graceMs`. Resolves once
   * the process exited.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (this.#child === undefined) return;
    if (this.#status === undefined) {
      this.#killGroup("SIGTERM");
      const exited = await Promise.race([
        this.#exited.then(() => true),
        delay(graceMs).then(() => false),
      ]);
      if (!exited) this.#killGroup("SIGKILL");
    }
    await this.#exited;
    // Children that ignored SIGTERM may still hold the pipes open.
    this.#killGroup("SIGKILL");
    await Promise.race([Promise.all(this.#pumps), delay(1000)]);
    removeEventListener("unload", this.#onUnload);
  }

  #killGroup(signal: Deno.Signal): void {
    const pgid = this.#child?.pid;
    if (pgid === undefined) return;
    try {
      Deno.kill(-pgid, signal);
    } catch {
      // The group is gone.
    }
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#append(decoder.decode(chunk, { stream: true }));
      }
    } catch {
      // The pipe broke with the process.
    }
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
 * A TCP port free right now on 127.0.0.1 (the kernel's pick).
 *
 * @example
 * ```ts
 * import { freePort } from "./server_process.ts";
 * console.log(freePort() > 0);
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Describes an exit status in a few words.
 *
 * @example
 * ```ts
 * import { describeStatus } from "./server_process.ts";
 * console.log(describeStatus({ success: false, code: 1, signal: null })); // "exit code 1"
 * ```
 */
export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal
    ? `killed by ${status.signal}`
    : `exit code ${status.code}`;
}

async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // Fields after the command name, which may contain spaces: state ppid pgrp.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) members.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

function kilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]?.slice(0, 300) ?? "";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
