/**
 * Where a client connects, whatever its transport: `host:port` (TCP),
 * `tls://host:port`, or `ws://host:port/path` and `wss://…` (WebSocket,
 * PROTOCOL.md §6). One parser for the client, the conformance suite and
 * the load tool.
 *
 * @module
 */

import { formatTarget, parseTarget, type Target, UsageError } from "./args.ts";

/** How a client reaches the server. */
export type EndpointKind = "tcp" | "tls" | "ws" | "wss";

/** A server endpoint. */
export interface Endpoint {
  /** The transport. */
  kind: EndpointKind;
  /** Host name or address (an IPv6 address without brackets). */
  hostname: string;
  /** Port. */
  port: number;
  /** The WebSocket path and query (`/ws`); empty for TCP and TLS. */
  path: string;
}

/**
 * Parses an endpoint: `host:port` (as {@linkcode parseTarget} reads it),
 * `tls://host:port`, `ws://host:port/path` or `wss://…` (the path
 * defaults to `/ws`, the port to 80 or 443). Throws a one-line
 * `UsageError`.
 *
 * @example
 * ```ts
 * import { parseEndpoint } from "./endpoint.ts";
 * console.log(parseEndpoint("ws://127.0.0.1:7688").path); // "/ws"
 * console.log(parseEndpoint("tls://localhost:7687").kind); // "tls"
 * console.log(parseEndpoint("7687").hostname); // "127.0.0.1"
 * ```
 */
export function parseEndpoint(text: string): Endpoint {
  const scheme = /^([a-z]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return { kind: "tcp", ...parseTarget(text), path: "" };
  }
  if (scheme === "tls") {
    return {
      kind: "tls",
      ...parseTarget(text.slice("tls://".length)),
      path: "",
    };
  }
  if (scheme !== "ws" && scheme !== "wss") {
    throw new UsageError(
      `bad target "${text}": use HOST:PORT, tls://HOST:PORT or ws://HOST:PORT/PATH`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`bad target "${text}": not a URL`);
  }
  const port = url.port === ""
    ? (scheme === "ws" ? 80 : 443)
    : Number(url.port);
  const path = url.pathname === "/" && !text.endsWith("/")
    ? "/ws"
    : url.pathname;
  return {
    kind: scheme,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    path: `${path}${url.search}`,
  };
}

/**
 * An endpoint as text: the inverse of {@linkcode parseEndpoint}.
 *
 * @example
 * ```ts
 * import { formatEndpoint } from "./endpoint.ts";
 * console.log(formatEndpoint({ kind: "ws", hostname: "::1", port: 80, path: "/ws" })); // "ws://[::1]:80/ws"
 * console.log(formatEndpoint({ kind: "tcp", hostname: "127.0.0.1", port: 7687, path: "" })); // "127.0.0.1:7687"
 * ```
 */
export function formatEndpoint(endpoint: Endpoint): string {
  const where = formatTarget(endpoint);
  if (endpoint.kind === "tcp") return where;
  if (endpoint.kind === "tls") return `tls://${where}`;
  return `${endpoint.kind}://${where}${endpoint.path}`;
}

/**
 * A target that may say its transport: the `kind` and `path` of an
 * {@linkcode Endpoint}, plain TCP when absent.
 */
export type AnyTarget = Target & Partial<Pick<Endpoint, "kind" | "path">>;

/**
 * `target` as a full endpoint (plain TCP unless it says otherwise).
 *
 * @example
 * ```ts
 * import { asEndpoint } from "./endpoint.ts";
 * console.log(asEndpoint({ hostname: "127.0.0.1", port: 7687 }).kind); // "tcp"
 * ```
 */
export function asEndpoint(target: AnyTarget): Endpoint {
  return {
    kind: target.kind ?? "tcp",
    hostname: target.hostname,
    port: target.port,
    path: target.path ?? "",
  };
}

/**
 * Whether lines reach `endpoint` as WebSocket messages (no terminators,
 * no segmentation, no half-close or reset of their own).
 *
 * @example
 * ```ts
 * import { isWebSocket, parseEndpoint } from "./endpoint.ts";
 * console.log(isWebSocket(parseEndpoint("wss://example.org/ws"))); // true
 * ```
 */
export function isWebSocket(
  endpoint: Partial<Pick<Endpoint, "kind">>,
): boolean {
  return endpoint.kind === "ws" || endpoint.kind === "wss";
}
