/**
 * Command-line helpers shared by every linechat program: typed flag values,
 * `host:port` targets, and the usage-error convention (one line on stderr,
 * exit code 2).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_PORT } from "../protocol/limits.ts";
import { VERSION } from "./version.ts";

/**
 * A bad command line. Programs print its message as one line and exit 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./args.ts";
 * console.log(new UsageError("--port: not a number").message);
 * ```
 */
export class UsageError extends Error {
  /** Creates the error with the line to print. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `parseArgs` from `node:util` (strict, its default), with its errors turned into
 * one-line {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * const { values } = parseFlags({
 *   args: ["--port", "1"],
 *   options: { port: { type: "string" } },
 * });
 * console.log(values.port); // "1"
 * ```
 */
export function parseFlags<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config); // strict by default
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      // parseArgs adds lines and sentences of advice; keep the first.
      const first = (error as Error).message.split("\n")[0];
      throw new UsageError(first.split(". To specify a positional")[0]);
    }
    throw error;
  }
}

/** Bounds for {@linkcode parseInteger}. */
export interface IntegerBounds {
  /** @default {0} */
  min?: number;
  /** @default {Number.MAX_SAFE_INTEGER} */
  max?: number;
}

/**
 * Parses a flag's value as a whole number within bounds. Accepts `64k`,
 * `4m`, `1g` suffixes (powers of 1024) and `_` separators.
 *
 * @example
 * ```ts
 * import { parseInteger } from "./args.ts";
 * console.log(parseInteger("--max-line-bytes", "64k")); // 65536
 * ```
 */
export function parseInteger(
  flag: string,
  value: string,
  bounds: IntegerBounds = {},
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
  const match = /^(\d[\d_]*)([kmg]i?b?)?$/i.exec(value.trim());
  if (!match) {
    throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  }
  const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    (match[2]?.[0]?.toLowerCase() ?? "") as "k"
  ] ?? 1;
  const n = Number(match[1].replaceAll("_", "")) * scale;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${flag}: ${value} is out of range (${min} to ${max})`,
    );
  }
  return n;
}

/**
 * Parses a flag's value as a number (fractions allowed) within bounds.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./args.ts";
 * console.log(parseNumber("--timeout-scale", "2.5")); // 2.5
 * ```
 */
export function parseNumber(
  flag: string,
  value: string,
  bounds: IntegerBounds = {},
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(
      `${flag}: expected a number from ${min} to ${max}, got "${value}"`,
    );
  }
  return n;
}

/** A TCP endpoint. */
export interface Target {
  hostname: string;
  port: number;
}

/**
 * Parses `host:port`, `:port`, `port`, `host` or `[v6]:port` into a target.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./args.ts";
 * console.log(parseTarget("localhost:7000")); // { hostname: "localhost", port: 7000 }
 * ```
 */
export function parseTarget(value: string, defaultPort = DEFAULT_PORT): Target {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  let hostname: string;
  let port: string | undefined;
  if (v6) {
    [, hostname, port] = v6;
  } else if (/^\d+$/.test(value)) {
    [hostname, port] = ["127.0.0.1", value];
  } else {
    const colon = value.lastIndexOf(":");
    hostname = colon === -1 ? value : value.slice(0, colon);
    port = colon === -1 ? undefined : value.slice(colon + 1);
    if (hostname.includes(":")) {
      throw new UsageError(`bad target "${value}": write IPv6 as [addr]:port`);
    }
  }
  const portNumber = port === undefined || port === ""
    ? defaultPort
    : Number(port);
  if (!/^\d*$/.test(port ?? "") || portNumber < 1 || portNumber > 65535) {
    throw new UsageError(`bad target "${value}": port must be 1 to 65535`);
  }
  return { hostname: hostname || "127.0.0.1", port: portNumber };
}

/**
 * Formats a target as `host:port`, bracketing an IPv6 host (`[::1]:7687`):
 * the inverse of {@linkcode parseTarget}.
 *
 * @example
 * ```ts
 * import { formatTarget } from "./args.ts";
 * console.log(formatTarget({ hostname: "::1", port: 7687 })); // "[::1]:7687"
 * ```
 */
export function formatTarget(target: Target): string {
  return target.hostname.includes(":")
    ? `[${target.hostname}]:${target.port}`
    : `${target.hostname}:${target.port}`;
}

/**
 * Runs a program's main function: a {@linkcode UsageError} becomes one
 * line on stderr and exit code 2; other errors one line and exit code 1.
 * Every program answers `--version` (before any `--`) with its name and
 * linechat's version, and exits 0.
 *
 * @example
 * ```ts ignore
 * import { runMain } from "./args.ts";
 * await runMain("linechat-server", async () => {});
 * ```
 */
export async function runMain(
  program: string,
  main: () => Promise<void> | void,
): Promise<void> {
  const own = Deno.args.indexOf("--");
  if (
    (own === -1 ? Deno.args : Deno.args.slice(0, own)).includes("--version")
  ) {
    console.log(`${program} ${VERSION}`);
    return;
  }
  try {
    await main();
  } catch (error) {
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `${program}: ${message}${usage ? ` (try --help)` : ""}`,
    );
    Deno.exit(usage ? 2 : 1);
  }
}
