/**
 * The server under attack: our server or any command with `{port}`,
 * started on a free port, or one already running at an address.
 *
 * A started server is a `ServerProcess` of `lib/server_process.ts` (a
 * `sh -c` command in a process group of its own), our server's command
 * comes from the registry (`targets/servers.ts`), and what an attack
 * needs of its stdout is had through the shell: discarded
 * (`> /dev/null`), read line by line as linechat's JSON log (close
 * reasons), or redirected into a named pipe nobody reads until the
 * server has stopped (`blocked-stdout`). Its environment can be set
 * (`DENO_V8_FLAGS`, to cap the heap).
 *
 * @module
 */

import { UsageError } from "../../lib/args.ts";
import { type ProcSample, sampleProcess } from "../../lib/proc_stats.ts";
import { ServerProcess } from "../../lib/server_process.ts";
import { fillPorts, shellQuote } from "../../lib/shell.ts";
import { DEFAULT_MAX_CLIENTS } from "../../protocol/limits.ts";
import {
  knownServers,
  REPO_ROOT,
  selectServers,
} from "../../targets/servers.ts";
import { within } from "../_async.ts";
import { discardStdout, signalOf } from "../spawn.ts";

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
    /** A command line with `{port}`, run with `sh -c`. */
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

/**
 * Our server as the registry knows it, with its default client limit
 * (the attacks' counts are far below it).
 */
const REGISTRY = await knownServers({
  build: false,
  oursMaxClients: DEFAULT_MAX_CLIENTS,
});

/**
 * Our server's command line with `{port}`: the registry's `ours` (its
 * default transport, node:net) or `ours-deno`, with the log settings an
 * attack needs and any extra flags.
 *
 * @example
 * ```ts
 * import { ourCommand } from "./target.ts";
 * console.log(ourCommand());
 * // "deno run -A server/main.ts --port {port} --quiet --max-clients 10000"
 * console.log(ourCommand({ quiet: false, jsonLog: true, transport: "node" }));
 * // "deno run -A server/main.ts --port {port} --max-clients 10000 --transport node --log json"
 * ```
 */
export function ourCommand(options: OurCommandOptions = {}): string {
  const id = options.transport === "deno" ? "ours-deno" : "ours";
  const [ours] = selectServers(REGISTRY, [id]);
  const words = ours.command.split(" ");
  if (options.transport === "node") words.push("--transport", "node");
  const quiet = options.quiet ?? true;
  return [
    ...words.filter((word) => quiet || word !== "--quiet"),
    ...(options.jsonLog ? ["--log", "json"] : []),
    ...(options.flags ?? []).map(shellQuote),
  ].join(" ");
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
  /** Its process id when known (of a started server: its group's). */
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
   * Its CPU time and RSS now (of a started server, its whole process
   * group); undefined if unknown or gone.
   */
  sample(): Promise<ProcSample | undefined>;
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

const STDERR_TAIL_CHARS = 8 * 1024;
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
  const sample = () =>
    pid === undefined
      ? Promise.resolve(undefined)
      : sampleProcess(pid).catch(() => undefined);
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
    rssBytes: async () => (await sample())?.rssBytes || undefined,
    sample,
    stop: () => Promise.resolve(undefined),
    blockedStdout: () => Promise.resolve(undefined),
  };
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
  const events: LogEvent[] = [];
  let stderrTail = "";
  const onLine = (line: string, stream: "stdout" | "stderr") => {
    if (stream === "stdout") {
      takeLogLine(line, events);
      return;
    }
    stderrTail = `${stderrTail}${line}\n`.slice(-STDERR_TAIL_CHARS);
  };
  const pipe = settings.stdout === "blocked"
    ? await UnreadPipe.create()
    : undefined;
  const command = pipe
    ? `exec >${shellQuote(pipe.path)}; ${template}`
    : settings.stdout === "discard"
    ? discardStdout(template)
    : template;
  const server = new ServerProcess({
    command,
    cwd: settings.cwd,
    env: { NO_COLOR: "1", ...settings.env },
    readyTimeoutMs: settings.readyTimeoutMs,
    maxOutputChars: STDERR_TAIL_CHARS,
    onLine,
  });
  try {
    pipe?.open();
    await server.start();
  } catch (error) {
    await pipe?.abandon();
    throw error;
  }
  let stopping = false;
  let diedEarly = false;
  server.exited.then(() => {
    if (!stopping) diedEarly = true;
  });
  let exit: Promise<TargetExit> | undefined;
  const stop = (graceMs = 5000): Promise<TargetExit> => {
    exit ??= (async () => {
      stopping = true;
      const wasRunning = server.alive;
      const t0 = performance.now();
      let killed = false;
      if (wasRunning) {
        server.signal("SIGTERM");
        if (!await within(graceMs, server.exited.then(() => true), false)) {
          killed = true;
          server.kill("SIGKILL");
        }
      }
      const status = await server.exited;
      const stopMs = wasRunning ? Math.round(performance.now() - t0) : null;
      await server.stop();
      const signal = signalOf(status);
      return {
        code: signal === null ? status.code : null,
        signal,
        diedEarly,
        stopMs,
        killed,
        stderrTail: stderrTail.trim(),
      };
    })();
    return exit;
  };
  const blockedStdout = async (): Promise<BlockedStdout | undefined> => {
    if (!pipe) return undefined;
    await stop();
    return summariseBlocked(await pipe.readAll());
  };
  const sample = async () =>
    server.alive ? (await server.sample()) ?? undefined : undefined;
  return {
    hostname: "127.0.0.1",
    port: server.port,
    description: fillPorts(template, server.port),
    pid: server.pid,
    jsonLog: settings.stdout === "json-log",
    events,
    get running() {
      return server.alive;
    },
    rssBytes: async () => (await sample())?.rssBytes || undefined,
    sample,
    stop,
    blockedStdout,
  };
}

/**
 * A named pipe for a server's stdout that nobody reads until the server
 * has stopped (`blocked-stdout`): opened for reading as the server starts
 * (so that the shell's redirection into it can complete), read to the end
 * afterwards, then removed.
 */
class UnreadPipe {
  readonly path: string;
  readonly #dir: string;
  #reader: Promise<Deno.FsFile> | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    this.path = `${dir}/stdout`;
  }

  /** Makes the pipe in a directory of its own. */
  static async create(): Promise<UnreadPipe> {
    const dir = await Deno.makeTempDir({ prefix: "linechat-attack-" });
    const pipe = new UnreadPipe(dir);
    const made = await new Deno.Command("mkfifo", { args: [pipe.path] })
      .output();
    if (!made.success) {
      await Deno.remove(dir, { recursive: true });
      throw new Error(`mkfifo ${pipe.path} failed`);
    }
    return pipe;
  }

  /** Opens the reading end (it completes once the server's shell opens the other). */
  open(): void {
    this.#reader = Deno.open(this.path, { read: true });
  }

  /** Everything the server wrote, once it is gone; then removes the pipe. */
  async readAll(): Promise<Uint8Array> {
    try {
      const file = await this.#reader!;
      return await new Response(file.readable).bytes();
    } finally {
      await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
    }
  }

  /** The server did not start: completes a pending open, and removes the pipe. */
  async abandon(): Promise<void> {
    if (this.#reader) {
      // Opening the writing end lets a pending open of the reading end return.
      const writer = await Deno.open(this.path, { write: true });
      writer.close();
      (await this.#reader).close();
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Takes one stdout line into `events` if it is a JSON log event. */
function takeLogLine(line: string, events: LogEvent[]): void {
  if (!line.startsWith("{") || events.length >= MAX_EVENTS) return;
  try {
    const { ts, event, ...fields } = JSON.parse(line);
    if (typeof event !== "string") return;
    events.push({ atMs: Date.parse(ts), event, fields });
  } catch {
    // Not JSON: not a log line of ours.
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
