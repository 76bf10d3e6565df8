/**
 * The server's command line: flags to {@linkcode ChatServerOptions}.
 *
 * @module
 */

import { parseFlags, parseInteger, UsageError } from "../lib/args.ts";
import {
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_TOTAL_PENDING_BYTES,
  DEFAULT_PORT,
  DEFAULT_WRITE_TIMEOUT_MS,
} from "../protocol/limits.ts";
import { maxLineCost } from "./batch.ts";
import { DEFAULT_MAX_CONTROL_RATE, type InputRate } from "./input_throttle.ts";
import {
  DEFAULT_SENDER_WAIT_MS,
  DEFAULT_SENDER_WINDOW_BYTES,
} from "./sender_window.ts";

/** The text `--help` prints. */
export const SERVER_USAGE =
  `linechat server: relays every line a client sends to every other client.

Usage: deno run -A server/main.ts [options]

Options:
  --host HOST               address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port PORT               TCP port (default ${DEFAULT_PORT}); 0 picks a free port, printed at start
  --max-line-bytes N        longest line relayed, terminator excluded (default ${DEFAULT_MAX_LINE_BYTES});
                            a longer line is dropped whole and its sender disconnected
  --max-pending-bytes N     output one client may hold, at real cost (payload + 64 bytes
                            per queued batch), before it is disconnected as a slow
                            consumer (default ${DEFAULT_MAX_PENDING_BYTES})
  --max-total-pending-bytes N
                            output all clients together may hold; over it the clients
                            holding the most are disconnected first (default ${DEFAULT_MAX_TOTAL_PENDING_BYTES})
  --write-timeout MS        a client whose output has not shrunk for MS is disconnected
                            as a slow consumer (default ${DEFAULT_WRITE_TIMEOUT_MS})
  --sender-window N         flood control: bytes of one sender's lines others may not have
                            taken yet before the server stops reading it (default ${DEFAULT_SENDER_WINDOW_BYTES})
  --sender-wait MS          flood control: longest a sender waits for recipients that take
                            nothing; they are left to the limits above (default ${DEFAULT_SENDER_WAIT_MS})
  --write-coalesce-ms MS    a client that received more while its last write was out
                            waits MS before its next write, so one write carries more
                            (default 0: at once)
  --max-input-rate L[/B]    read each client at most L lines (and B bytes) per second;
                            a faster one is read more slowly (default: no cap)
  --max-control-rate N      read each WebSocket client at most N frames per second that
                            carry no line (pings, pongs, fragments) (default ${DEFAULT_MAX_CONTROL_RATE}; 0: no cap)
  --max-clients N           clients at once; more are accepted and closed (default ${DEFAULT_MAX_CLIENTS})
  --max-clients-per-ip N    clients at once from one address (default 0: no limit)
  --idle-timeout MS         disconnect a client that sent nothing for MS, readers
                            included (default 0: never)
  --line-timeout MS         disconnect a client that left a line unfinished for MS
                            (default 0: never)
  --shutdown-grace-ms N     on SIGINT/SIGTERM, how long pending output may flush (default 2000)
  --http-port PORT          serve the web chat page (/), WebSocket clients (/ws), /metrics
                            and /healthz on this port (default off; 0 picks a free one)
  --http-max-pending N      ops port: connections sending their request head at once; when
                            full, the longest waiting is closed for a newcomer (default 256)
  --http-max-pending-per-ip N
                            ops port: of those, most from one address; its next closes
                            its longest waiting (default 256: no smaller share)
  --tls-cert FILE           serve TLS on the TCP port and HTTPS/WSS on the HTTP port with
                            this certificate chain (PEM), with --tls-key
  --tls-key FILE            the certificate's private key (PEM)
  --transport node|deno     how TCP is served: node:net (default), which holds less memory
                            per idle client and less CPU per delivery, or Deno.listen
                            (the default with --tls-cert: TLS is Deno.listen's only;
                            see docs/performance.md)
  --log text|json           log format (default text)
  --quiet                   no per-connection lines (connect, disconnect, reject,
                            accept-error)
  --redis URL …             run as a node of a cluster joined through Redis: this and the
                            --room and --bus-* flags are cluster/node.ts's (see its --help)
  -h, --help                this text
  --version                 linechat's version

Sizes accept k/m/g suffixes (powers of 1024): --max-line-bytes 1m, --max-input-rate 50/16k.`;

/**
 * The first cluster flag in `args` (`--redis`, `--room`, `--bus-…`), if
 * any: with one, the arguments are a cluster node's (`cluster/node.ts`).
 *
 * @example
 * ```ts
 * import { clusterFlagIn } from "./cli.ts";
 * console.log(clusterFlagIn(["--port", "0", "--redis=redis://h"])); // "--redis"
 * ```
 */
export function clusterFlagIn(args: readonly string[]): string | undefined {
  for (const arg of args) {
    if (arg === "--") break;
    const flag = /^--(redis|room|bus-[a-z-]+)(?==|$)/.exec(arg);
    if (flag) return `--${flag[1]}`;
  }
  return undefined;
}

/** Parsed server flags. */
export interface ServerArgs {
  help: boolean;
  hostname: string;
  port: number;
  maxLineBytes: number;
  maxPendingBytes: number;
  maxTotalPendingBytes: number;
  writeTimeoutMs: number;
  senderWindowBytes: number;
  senderWaitMs: number;
  writeCoalesceMs: number;
  maxInputRate: InputRate | undefined;
  /** `--max-control-rate`: 0 for no cap. */
  maxControlRate: number;
  maxClients: number;
  maxClientsPerIp: number;
  idleTimeoutMs: number;
  lineTimeoutMs: number;
  shutdownGraceMs: number;
  log: "text" | "json";
  quiet: boolean;
  /**
   * `--transport`: `"node"` unless TLS is served (`--tls-cert`), which
   * only `"deno"` can.
   */
  transport: "deno" | "node";
  /** `--http-port`: the ops port; unset means off. */
  httpPort: number | undefined;
  /** `--http-max-pending`. */
  httpMaxPending: number;
  /** `--http-max-pending-per-ip`. */
  httpMaxPendingPerIp: number;
  /** `--tls-cert` and `--tls-key`: paths of the PEM files. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
}

/**
 * Parses the server's flags strictly; throws {@linkcode UsageError} with a
 * one-line reason for anything unknown, missing or out of range.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./cli.ts";
 * console.log(parseServerArgs(["--port", "0", "--log", "json"]).port); // 0
 * ```
 */
export function parseServerArgs(args: string[]): ServerArgs {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: String(DEFAULT_PORT) },
      "max-line-bytes": {
        type: "string",
        default: String(DEFAULT_MAX_LINE_BYTES),
      },
      "max-pending-bytes": {
        type: "string",
        default: String(DEFAULT_MAX_PENDING_BYTES),
      },
      "max-total-pending-bytes": {
        type: "string",
        default: String(DEFAULT_MAX_TOTAL_PENDING_BYTES),
      },
      "write-timeout": {
        type: "string",
        default: String(DEFAULT_WRITE_TIMEOUT_MS),
      },
      "sender-window": {
        type: "string",
        default: String(DEFAULT_SENDER_WINDOW_BYTES),
      },
      "sender-wait": {
        type: "string",
        default: String(DEFAULT_SENDER_WAIT_MS),
      },
      "write-coalesce-ms": { type: "string", default: "0" },
      "max-input-rate": { type: "string" },
      "max-control-rate": {
        type: "string",
        default: String(DEFAULT_MAX_CONTROL_RATE),
      },
      "max-clients": { type: "string", default: String(DEFAULT_MAX_CLIENTS) },
      "max-clients-per-ip": { type: "string", default: "0" },
      "idle-timeout": { type: "string", default: "0" },
      "line-timeout": { type: "string", default: "0" },
      "shutdown-grace-ms": { type: "string", default: "2000" },
      log: { type: "string", default: "text" },
      "http-port": { type: "string" },
      "http-max-pending": { type: "string", default: "256" },
      "http-max-pending-per-ip": { type: "string", default: "256" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      transport: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  const transport = values.transport ??
    (values["tls-cert"] === undefined ? "node" : "deno");
  if (transport !== "deno" && transport !== "node") {
    throw new UsageError(
      `--transport: expected deno or node, got "${values.transport}"`,
    );
  }
  if (values.log !== "text" && values.log !== "json") {
    throw new UsageError(`--log: expected text or json, got "${values.log}"`);
  }
  const maxLineBytes = parseInteger(
    "--max-line-bytes",
    values["max-line-bytes"],
    {
      min: 1,
      max: 1024 ** 3,
    },
  );
  const maxPendingBytes = parseInteger(
    "--max-pending-bytes",
    values["max-pending-bytes"],
    { min: 1, max: 16 * 1024 ** 3 },
  );
  if (
    (values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)
  ) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (values["tls-cert"] !== undefined && transport === "node") {
    throw new UsageError("TLS is served by --transport deno only");
  }
  if (maxPendingBytes < maxLineCost(maxLineBytes)) {
    throw new UsageError(
      `--max-pending-bytes (${maxPendingBytes}) must be at least the cost of one longest line, --max-line-bytes + ${
        maxLineCost(0)
      } (${maxLineCost(maxLineBytes)})`,
    );
  }
  const maxTotalPendingBytes = parseInteger(
    "--max-total-pending-bytes",
    values["max-total-pending-bytes"],
    { min: 1, max: 1024 ** 4 },
  );
  if (maxTotalPendingBytes < maxPendingBytes) {
    throw new UsageError(
      `--max-total-pending-bytes (${maxTotalPendingBytes}) must be at least --max-pending-bytes (${maxPendingBytes})`,
    );
  }
  const ms = (flag: string, value: string, min: number) =>
    parseInteger(flag, value, { min, max: 24 * 3600 * 1000 });
  return {
    help: values.help,
    hostname: values.host,
    port: parseInteger("--port", values.port, { max: 65535 }),
    maxLineBytes,
    maxPendingBytes,
    maxTotalPendingBytes,
    writeTimeoutMs: ms("--write-timeout", values["write-timeout"], 1),
    senderWindowBytes: parseInteger(
      "--sender-window",
      values["sender-window"],
      { min: 1024, max: 1024 ** 3 },
    ),
    senderWaitMs: ms("--sender-wait", values["sender-wait"], 1),
    writeCoalesceMs: parseInteger(
      "--write-coalesce-ms",
      values["write-coalesce-ms"],
      { max: 100 },
    ),
    maxInputRate: values["max-input-rate"] === undefined
      ? undefined
      : parseInputRate(values["max-input-rate"]),
    maxControlRate: parseInteger(
      "--max-control-rate",
      values["max-control-rate"],
    ),
    maxClients: parseInteger("--max-clients", values["max-clients"], {
      min: 1,
    }),
    maxClientsPerIp: parseInteger(
      "--max-clients-per-ip",
      values["max-clients-per-ip"],
    ),
    idleTimeoutMs: ms("--idle-timeout", values["idle-timeout"], 0),
    lineTimeoutMs: ms("--line-timeout", values["line-timeout"], 0),
    shutdownGraceMs: parseInteger(
      "--shutdown-grace-ms",
      values["shutdown-grace-ms"],
    ),
    log: values.log,
    quiet: values.quiet,
    transport,
    httpMaxPending: parseInteger(
      "--http-max-pending",
      values["http-max-pending"],
      { min: 1 },
    ),
    httpMaxPendingPerIp: parseInteger(
      "--http-max-pending-per-ip",
      values["http-max-pending-per-ip"],
      { min: 1 },
    ),
    httpPort: values["http-port"] === undefined
      ? undefined
      : parseInteger("--http-port", values["http-port"], { max: 65535 }),
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
  };
}

/**
 * Parses `--max-input-rate`: `LINES` or `LINES/BYTES` per second, bytes
 * with k/m/g suffixes.
 *
 * @example
 * ```ts
 * import { parseInputRate } from "./cli.ts";
 * console.log(parseInputRate("50/16k")); // { linesPerSecond: 50, bytesPerSecond: 16384 }
 * ```
 */
export function parseInputRate(value: string): InputRate {
  const [lines, bytes, extra] = value.split("/");
  if (extra !== undefined) {
    throw new UsageError(
      `--max-input-rate: expected LINES or LINES/BYTES per second, got "${value}"`,
    );
  }
  const linesPerSecond = parseInteger("--max-input-rate", lines, { min: 1 });
  return bytes === undefined ? { linesPerSecond } : {
    linesPerSecond,
    bytesPerSecond: parseInteger("--max-input-rate", bytes, { min: 1 }),
  };
}
