/**
 * Starting a server under test from a command template (`"cmd {port}"`),
 * waiting until it listens, and stopping it: for `deno task load --spawn`
 * and `deno task compare`.
 *
 * @module
 */

import { UsageError } from "../lib/args.ts";

/**
 * Splits a command line into words, shell-style but without a shell:
 * whitespace separates, single and double quotes group, backslash escapes
 * the next character (outside single quotes).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { splitCommand } from "./server_process.ts";
 *
 * deepEqual(splitCommand(`ncat -l --broker "127.0.0.1" {port}`), [
 *   "ncat", "-l", "--broker", "127.0.0.1", "{port}",
 * ]);
 * ```
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === "\\" && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unbalanced ${quote} in "${command}"`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Replaces every `{port}` in a command's words.
 *
 * @example
 * ```ts
 * import { fillPort } from "./server_process.ts";
 * console.log(fillPort(["ncat", "-l", "{port}"], 9000)); // ["ncat", "-l", "9000"]
 * ```
 */
export function fillPort(words: readonly string[], port: number): string[] {
  return words.map((word) => word.replaceAll("{port}", String(port)));
}

/**
 * A TCP port that was free a moment ago on `hostname` (found by listening
 * on port 0 and closing). Another process could take it in between; the
 * caller's start-up check catches that.
 *
 * @example
 * ```ts
 * import { freePort } from "./server_process.ts";
 * console.log(freePort() > 0);
 * ```
 */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Whether some socket on this machine listens on TCP `port` (any address),
 * from `/proc/net/tcp` and `/proc/net/tcp6`. Unlike a test connection this
 * leaves no trace in the server (some reference servers never forget a
 * client, even a closed one).
 *
 * @example
 * ```ts
 * import { isListening } from "./server_process.ts";
 * const listener = Deno.listen({ port: 0 });
 * console.log(await isListening((listener.addr as Deno.NetAddr).port)); // true
 * listener.close();
 * ```
 */
export async function isListening(port: number): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields[1] is local "ADDR:PORT", fields[3] the state; 0A = LISTEN.
      if (fields[3] === "0A" && fields[1]?.endsWith(`:${hex}`)) return true;
    }
  }
  return false;
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /**
   * Port to substitute for `{port}`; a free one when not given.
   *
   * @default {freePort()}
   */
  port?: number;
  /**
   * How long to wait for the server to listen, ms.
   *
   * @default {15000}
   */
  readyTimeoutMs?: number;
  /**
   * Working directory.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
}

/** A server process started by {@linkcode startServer}. */
export interface ServerProcess {
  /** The command run, `{port}` filled in. */
  readonly command: string[];
  /** Its process id (the server itself: no shell in between). */
  readonly pid: number;
  /** The port it listens on. */
  readonly port: number;
  /** Resolves with its exit code (or signal) when it exits. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether it is still running. */
  readonly running: boolean;
  /** The last few KiB it wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * Starts `template` (a command line or words with `{port}` in them, or a
 * function of the port that returns the words) and
 * waits until it listens on the port. Its stdout is discarded (some
 * reference servers print every line they relay, and a pipe nobody reads
 * would block them); the tail of stderr is kept for error messages.
 * Throws if it exits or does not listen in time (and then kills it).
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server_process.ts";
 *
 * const server = await startServer("ncat -l --broker 127.0.0.1 {port}");
 * console.log(server.pid, server.port);
 * await server.stop();
 * ```
 */
export async function startServer(
  template: string | readonly string[] | ((port: number) => string[]),
  options: StartServerOptions = {},
): Promise<ServerProcess> {
  const port = options.port ?? freePort();
  const command = typeof template === "function" ? template(port) : fillPort(
    typeof template === "string" ? splitCommand(template) : template,
    port,
  );
  if (command.length === 0) throw new UsageError("empty server command");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: options.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot start "${command[0]}": ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  let tail = new Uint8Array(0);
  const stderrDone = (async () => {
    for await (const chunk of child.stderr) {
      const joined = new Uint8Array(tail.length + chunk.length);
      joined.set(tail);
      joined.set(chunk, tail.length);
      tail = joined.slice(Math.max(0, joined.length - STDERR_TAIL_BYTES));
    }
  })().catch(() => {});
  let running = true;
  const exited = child.status.then(async (status) => {
    running = false;
    await stderrDone;
    return status;
  });
  const stderrTail = () => new TextDecoder().decode(tail).trim();
  const stop = async (graceMs = 2000) => {
    if (running) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited in between.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<false>((resolve) =>
          timer = setTimeout(resolve, graceMs, false)
        ),
      ]);
      clearTimeout(timer);
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited in between.
        }
      }
    }
    return await exited;
  };
  const server: ServerProcess = {
    command,
    pid: child.pid,
    port,
    exited,
    get running() {
      return running;
    },
    stderrTail,
    stop,
  };
  const deadline = performance.now() + (options.readyTimeoutMs ?? 15_000);
  while (!(await isListening(port))) {
    if (!running) {
      const status = await exited;
      throw new Error(
        `${command.join(" ")} exited with code ${status.code} before ` +
          `listening${stderrTail() ? `: ${stderrTail()}` : ""}`,
      );
    }
    if (performance.now() > deadline) {
      await stop(500);
      throw new Error(
        `${command.join(" ")} did not listen on port ${port} in time`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}
