// Reading an HTTP/1.1 request head from a connection, bounded in bytes and
// time: all the ops port (`--http-port`) needs before it answers or upgrades
// to WebSocket. Private to the server: `http_server.ts` is the public face.

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The path, without the query. */
  path: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Map<string, string>;
}

/** Where the head ends (the index after CR LF CR LF), or -1. */
export function headEnd(bytes: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (
      bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a &&
      bytes[i - 3] === 0x0d
    ) {
      return i + 1;
    }
  }
  return -1;
}

/**
 * Parses a request head (request line and headers, CR LF separated); null
 * when it is not HTTP/1.x.
 */
export function parseHead(text: string): RequestHead | null {
  const lines = text.split("\r\n");
  const request = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (request === null) return null;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    headers.set(
      line.slice(0, colon).trim().toLowerCase(),
      line.slice(colon + 1).trim(),
    );
  }
  const target = request[2];
  const query = target.indexOf("?");
  return {
    method: request[1],
    path: query === -1 ? target : target.slice(0, query),
    headers,
  };
}

/** Whether a header holds `token` in its comma-separated list. */
export function hasToken(value: string | undefined, token: string): boolean {
  return value?.toLowerCase().split(",").some((part) =>
    part.trim() === token
  ) ?? false;
}

/** A complete response with a body, closing the connection after. */
export function response(
  status: number,
  reason: string,
  headers: Record<string, string>,
  body: Uint8Array,
  head = false,
): Uint8Array {
  let text = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    text += `${name}: ${value}\r\n`;
  }
  text += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const start = new TextEncoder().encode(text);
  if (head) return start;
  const out = new Uint8Array(start.length + body.length);
  out.set(start);
  out.set(body, start.length);
  return out;
}
