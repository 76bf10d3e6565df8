/**
 * Redis URLs (`redis://[user:password@]host[:port][/db]`) and room names:
 * checked on the command line, before anything connects.
 *
 * @module
 */

import { UsageError } from "../lib/args.ts";

/** The Redis port when a URL names none. */
export const DEFAULT_REDIS_PORT = 6379;

/** The room a node joins unless told otherwise. */
export const DEFAULT_ROOM = "lobby";

/** A checked Redis URL. */
export interface RedisUrl {
  /** The URL as given (credentials included): what the client gets. */
  url: string;
  /** Host name or address. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Database number (pub/sub ignores it, but the URL may carry one). */
  db: number;
  /** Whether it is `rediss://` (TLS). */
  tls: boolean;
  /** The URL with any password replaced by `***`: safe to log. */
  redacted: string;
}

/**
 * Checks a `redis://` or `rediss://` URL; throws {@linkcode UsageError}
 * with a one-line reason if it is not one.
 *
 * @example
 * ```ts
 * import { parseRedisUrl } from "./redis_url.ts";
 * const url = parseRedisUrl("redis://:secret@127.0.0.1:6380/2", "--redis");
 * console.log(url.port, url.db, url.redacted); // 6380 2 "redis://:***@127.0.0.1:6380/2"
 * ```
 */
export function parseRedisUrl(value: string, flag = "--redis"): RedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(
      `${flag}: expected redis://host[:port][/db], got "${value}"`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new UsageError(
      `${flag}: expected a redis:// or rediss:// URL, got "${value}"`,
    );
  }
  if (parsed.hostname === "") {
    throw new UsageError(`${flag}: no host in "${value}"`);
  }
  const path = parsed.pathname.replace(/^\//, "");
  if (!/^\d*$/.test(path) || parsed.search !== "" || parsed.hash !== "") {
    throw new UsageError(
      `${flag}: after the host only /db (a number) may follow, got "${value}"`,
    );
  }
  const redacted = new URL(parsed.href);
  if (redacted.password !== "") redacted.password = "***";
  return {
    url: value,
    hostname: parsed.hostname,
    port: parsed.port === "" ? DEFAULT_REDIS_PORT : Number(parsed.port),
    db: path === "" ? 0 : Number(path),
    tls: parsed.protocol === "rediss:",
    redacted: redacted.href,
  };
}

/**
 * Checks a room name: 1 to 128 letters, digits and `._:-`. The room's
 * Redis channel is `linechat:room:<name>` (see {@linkcode roomChannel}).
 *
 * @example
 * ```ts
 * import { parseRoomName } from "./redis_url.ts";
 * console.log(parseRoomName("lobby")); // "lobby"
 * ```
 */
export function parseRoomName(value: string, flag = "--room"): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(value)) {
    throw new UsageError(
      `${flag}: 1 to 128 letters, digits and . _ : - expected, got "${value}"`,
    );
  }
  return value;
}

/**
 * The Redis channel a room's nodes publish to and subscribe to.
 *
 * @example
 * ```ts
 * import { roomChannel } from "./redis_url.ts";
 * console.log(roomChannel("lobby")); // "linechat:room:lobby"
 * ```
 */
export function roomChannel(room: string): string {
  return `linechat:room:${room}`;
}
