/**
 * The server under attack: our server or any command with `{port}`,
 * started on a free port, or one already running at an address.
 *
 * Unlike `startServer` of `bench/server_process.ts` (which this reuses for
 * splitting commands, free ports and the listening check), a target's
 * stdout can be kept: read as linechat's JSON log (close reasons), or
 * held as a pipe nobody reads (`blocked-stdout`); and its environment can
 * be set (`DENO_V8_FLAGS`, to cap the heap).
 *
 * @module
 */

import { UsageError } from "../../lib/args.ts";
import { sampleProcess } from "../../lib/proc_stats.ts";
import {
  fillPort,
  freePort,
  isListening,
  splitCommand,
} from "../server_process.ts";

/** Where the attack finds its server. */
export type TargetSpec =
  | {
    /** Our server, with the flags each attack needs. */
    kind: "ours";
    /** `--transport` of our server. */
    transport: "deno" | "node";
    /** Variables added to its environment. */
    env: Record<string, string>;
  }
  | {
    /** A command line with `{port}`, run without a shell. */
    kind: "spawn";
    command: string;
    /** Variables added to its environment. */
    env: Record<string, string>;
    /** Its stdout is linechat's JSON log (`--log json`). */
    jsonLog: boolean;
  }
  | {
    /** A server that is already running. */
    kind: "address";
    hostname: string;
    port: number;
    /** Its process id, to sample its memory. */
    pid: number | undefined;
  };

/** How our server is started for each attack (see {@linkcode ourCommand}). */
export interface OurCommandOptions {
  /**
   * `--quiet` (no per-connection log lines).
   *
   * @default {true}
   */
  quiet?: boolean;
  /**
   * `--log json`, so that close reasons can be read from the log.
   *
   * @default {false}
   */
  jsonLog?: boolean;
  /**
   * `--transport`.
   *
   * @default {"deno"}
   */
  transport?: "deno" | "node";
  /**
   * More flags, e.g. `["--max-clients-per-ip", "100"]`.
   *
   * @default {[]}
   */
  flags?: readonly string[];
}

/** The repository root, where our server's default command is run. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/**
 * Our server's command line with `{port}`: the default target, with the
 * log settings an attack needs and any extra flags.
 *
 * @example
 * ```ts
 * import { ourCommand } from "./target.ts";
 * console.log(ourCommand()); // "deno run -A server/main.ts --port {port} --quiet"
 * console.log(ourCommand({ quiet: false, jsonLog: true, transport: "node" }));
 * // "deno run -A server/main.ts --port {port} --log json --transport node"
 * ```
 */
export function ourCommand(options: OurCommandOptions = {}): string {
  const words = ["deno", "run", "-A", "server/main.ts", "--port", "{port}"];
  if (options.quiet ?? true) words.push("--quiet");
  if (options.jsonLog) words.push("--log", "json");
  if ((options.transport ?? "deno") !== "deno") {
    words.push("--transport", options.transport!);
  }
  words.push(...options.flags ?? []);
  return words.join(" ");
}

/** What becomes of the server's stdout. */
export type StdoutMode =
  /** Discarded. */
  | "discard"
  /** Read line by line as JSON log events ({@linkcode Target.events}). */
  | "json-log"
  /** A pipe nobody reads until the server has stopped. */
  | "blocked";

/** One event of linechat's JSON log, with its time as epoch ms. */
export interface LogEvent {
  /** `ts`, as `Date` milliseconds. */
  atMs: number;
  /** `event`: `disconnect`, `output-limit`, `shutdown`, … */
  event: string;
  /** Every other field. */
  fields: Record<string, unknown>;
}

/** How a target ended (for a spawned server). */
export interface TargetExit {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: string | null;
  /** It exited by itself before it was asked to stop. */
  diedEarly: boolean;
  /** From SIGTERM to exit, ms (null if it had exited already). */
  stopMs: number | null;
  /** It had to be killed: SIGTERM was not enough within the grace time. */
  killed: boolean;
  /** The last few KiB of its stderr. */
  stderrTail: string;
}

/** What a blocked stdout let through, read after the server stopped. */
export interface BlockedStdout {
  /** Bytes written to stdout in all. */
  bytes: number;
  /** Whole lines among them. */
  lines: number;
  /** Sum of the `log_dropped` counts in those lines (our server's log). */
  logDroppedReported: number;
  /** Whether a `shutdown` summary line got through. */
  shutdownLogged: boolean;
}

/** A server under attack. */
export interface Target {
  /** Address to connect to. */
  readonly hostname: string;
  /** Port to connect to. */
  readonly port: number;
  /** The command as run (`{port}` filled in), or the address. */
  readonly description: string;
  /** Its process id, when known. */
  readonly pid: number | undefined;
  /** Whether its JSON log is read ({@linkcode Target.events}). */
  readonly jsonLog: boolean;
  /** Events of its JSON log so far (`json-log` mode only). */
  readonly events: readonly LogEvent[];
  /** Whether it is still running (always true for an address). */
  readonly running: boolean;
  /** Its RSS now, bytes; undefined if unknown or gone. */
  rssBytes(): Promise<number | undefined>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended
   * (undefined for an address target, which is left running).
   */
  stop(graceMs?: number): Promise<TargetExit | undefined>;
  /** After {@linkcode Target.stop}, in `blocked` mode: what got out. */
  blockedStdout(): Promise<BlockedStdout | undefined>;
}

/** Options for {@linkcode openTarget}. */
export interface OpenTargetOptions {
  /**
   * What becomes of a spawned server's stdout.
   *
   * @default {"discard"}
   */
  stdout?: StdoutMode;
  /**
   * Our server's command options (`kind: "ours"` only).
   *
   * @default {{}}
   */
  ours?: OurCommandOptions;
  /**
   * How long a spawned server may take to listen, ms.
   *
   * @default {20000}
   */
  readyTimeoutMs?: number;
}

const STDERR_TAIL_BYTES = 8 * 1024;
/** Events kept from a JSON log; more are counted, not kept. */
const MAX_EVENTS = 200_000;

/**
 * Opens the target of `spec`: starts it on a free port and waits until it
 * listens, or takes the address as it is. Throws (an `Error` whose
 * message says why) when a spawned server exits or does not listen.
 *
 * @example
 * ```ts ignore
 * import { openTarget } from "./target.ts";
 * const target = await openTarget({ kind: "ours", transport: "deno", env: {} });
 * console.log(target.port, await target.rssBytes());
 * await target.stop();
 * ```
 */
export async function openTarget(
  spec: TargetSpec,
  options: OpenTargetOptions = {},
): Promise<Target> {
  if (spec.kind === "address") {
    if (options.stdout === "blocked") {
      throw new UsageError("this attack needs a server it starts (--spawn)");
    }
    return addressTarget(spec.hostname, spec.port, spec.pid);
  }
  const template = spec.kind === "ours"
    ? ourCommand({ transport: spec.transport, ...options.ours })
    : spec.command;
  // A log is read only from a server known to write ours: other servers
  // may print every line they relay, and reading that costs the harness.
  const jsonLog = spec.kind === "ours"
    ? options.ours?.jsonLog === true
    : spec.jsonLog;
  const stdout = options.stdout === "json-log" && !jsonLog
    ? "discard"
    : options.stdout ?? "discard";
  return await spawnTarget(template, {
    env: spec.env,
    cwd: spec.kind === "ours" ? REPO_ROOT : undefined,
    stdout,
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
  });
}

function addressTarget(
  hostname: string,
  port: number,
  pid: number | undefined,
): Target {
  return {
    hostname,
    port,
    description: `${hostname}:${port}${
      pid === undefined ? "" : ` (pid ${pid})`
    }`,
    pid,
    jsonLog: false,
    events: [],
    running: true,
    rssBytes: () => rssOf(pid),
    stop: () => Promise.resolve(undefined),
    blockedStdout: () => Promise.resolve(undefined),
  };
}

async function rssOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return (await sampleProcess(pid)).rssBytes || undefined;
  } catch {
    return undefined; // gone
  }
}

interface SpawnSettings {
  env: Record<string, string>;
  cwd: string | undefined;
  stdout: StdoutMode;
  readyTimeoutMs: number;
}

async function spawnTarget(
  template: string,
  settings: SpawnSettings,
): Promise<Target> {
  const port = freePort();
  const command = fillPort(splitCommand(template), port);
  if (command.length === 0) throw new UsageError("empty server command");
  let child: Deno.ChildProcess;
  try {
    // "deno" is this very binary, whatever PATH holds.
    const program = command[0] === "deno" ? Deno.execPath() : command[0];
    child = new Deno.Command(program, {
      args: command.slice(1),
      cwd: settings.cwd,
      env: settings.env,
      stdin: "null",
      stdout: settings.stdout === "discard" ? "null" : "piped",
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
  const stderrTail = () => new TextDecoder().decode(tail).trim();
  const events: LogEvent[] = [];
  const stdoutDone = settings.stdout === "json-log"
    ? readJsonLog(child.stdout, events)
    : Promise.resolve();
  let running = true;
  let stopping = false;
  let diedEarly = false;
  const exited = child.status.then(async (status) => {
    running = false;
    if (!stopping) diedEarly = true;
    await stderrDone;
    return status;
  });
  let exit: Promise<TargetExit> | undefined;
  const stop = (graceMs = 5000): Promise<TargetExit> => {
    exit ??= (async () => {
      stopping = true;
      const wasRunning = running;
      const t0 = performance.now();
      let killed = false;
      if (running) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Exited in between.
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = await Promise.race([
          exited.then(() => true),
          new Promise<false>((r) => timer = setTimeout(r, graceMs, false)),
        ]);
        clearTimeout(timer);
        if (!done) {
          killed = true;
          try {
            child.kill("SIGKILL");
          } catch {
            // Exited in between.
          }
        }
      }
      const status = await exited;
      const stopMs = wasRunning ? Math.round(performance.now() - t0) : null;
      if (settings.stdout === "json-log") await stdoutDone;
      return {
        code: status.signal === null ? status.code : null,
        signal: status.signal,
        diedEarly,
        stopMs,
        killed,
        stderrTail: stderrTail(),
      };
    })();
    return exit;
  };
  const blockedStdout = async (): Promise<BlockedStdout | undefined> => {
    if (settings.stdout !== "blocked") return undefined;
    await stop();
    return summariseBlocked(await new Response(child.stdout).bytes());
  };
  const target: Target = {
    hostname: "127.0.0.1",
    port,
    description: command.join(" "),
    pid: child.pid,
    jsonLog: settings.stdout === "json-log",
    events,
    get running() {
      return running;
    },
    rssBytes: () => running ? rssOf(child.pid) : Promise.resolve(undefined),
    stop,
    blockedStdout,
  };
  const deadline = performance.now() + settings.readyTimeoutMs;
  while (!(await isListening(port))) {
    if (!running) {
      const status = await exited;
      throw new Error(
        `${command.join(" ")} exited with code ${status.code} before ` +
          `listening${stderrTail() ? `: ${stderrTail().slice(-300)}` : ""}`,
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
  return target;
}

/** Reads a JSON log line by line into `events`; other lines are skipped. */
async function readJsonLog(
  stream: ReadableStream<Uint8Array>,
  events: LogEvent[],
): Promise<void> {
  let rest = "";
  const take = (line: string) => {
    if (!line.startsWith("{") || events.length >= MAX_EVENTS) return;
    try {
      const { ts, event, ...fields } = JSON.parse(line);
      if (typeof event !== "string") return;
      events.push({ atMs: Date.parse(ts), event, fields });
    } catch {
      // Not JSON: not a log line of ours.
    }
  };
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) take(line);
    }
    take(rest);
  } catch {
    // The pipe broke with the process: what was read is kept.
  }
}

/**
 * Counts what a blocked stdout let through: bytes, whole lines, the
 * `log_dropped` counts our server adds (text or JSON), and whether the
 * shutdown summary made it.
 *
 * @example
 * ```ts
 * import { summariseBlocked } from "./target.ts";
 * const out = new TextEncoder().encode("a connect id=1\nb connect id=9 log_dropped=7\nc shut");
 * console.log(summariseBlocked(out));
 * // { bytes: 52, lines: 2, logDroppedReported: 7, shutdownLogged: false }
 * ```
 */
export function summariseBlocked(bytes: Uint8Array): BlockedStdout {
  const text = new TextDecoder().decode(bytes);
  const whole = text.slice(0, text.lastIndexOf("\n") + 1);
  let dropped = 0;
  for (const match of whole.matchAll(/log_dropped["=:]+(\d+)/g)) {
    dropped += Number(match[1]);
  }
  return {
    bytes: bytes.length,
    lines: whole === "" ? 0 : whole.split("\n").length - 1,
    logDroppedReported: dropped,
    shutdownLogged: /(^| |")shutdown( |")/m.test(whole),
  };
}
