// The ops port over real sockets: the page, /metrics read by a real
// Prometheus text-format parser, /healthz, and requests it must refuse.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { type HttpServerOptions, listenHttp } from "./http_server.ts";
import {
  openWebSocket,
  readLines,
  startServer,
  type TestServer,
  waitFor,
} from "./_testing.ts";

const base = (t: TestServer) => `http://127.0.0.1:${t.server.httpAddr!.port}`;

/** One family's samples from /metrics, as `{labels: value}`. */
async function metrics(t: TestServer) {
  const response = await fetch(`${base(t)}/metrics`);
  equal(response.status, 200);
  match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(await response.text()) as {
    name: string;
    type: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }[];
  const get = (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === name);
    if (family === undefined) throw new Error(`no ${name}`);
    const sample = family.metrics.find((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
    );
    return Number(sample?.value);
  };
  return { families, get };
}

Deno.test("/metrics, read by a Prometheus text-format parser, counts what was sent", async () => {
  await using t = await startServer({ httpPort: 0, maxLineBytes: 100 });
  const [a, b] = await t.clients(2);
  const ws = await openWebSocket(
    `ws://127.0.0.1:${t.server.httpAddr!.port}/ws`,
  );
  await waitFor(() => t.server.clientCount === 3, "three clients");
  for (let i = 0; i < 5; i++) await a.send(`line ${i}`);
  await readLines(b, 5);
  await waitFor(() => ws.received.length === 5, "the WebSocket reader");
  await b.write(new TextEncoder().encode("x".repeat(200) + "\n"));
  await waitFor(() => t.server.stats.closes["line-too-long"] === 1, "the cut");
  const m = await metrics(t);
  for (const family of m.families) {
    ok(/^linechat_[a-z_]+$/.test(family.name), family.name);
    if (family.type === "counter") {
      ok(family.name.endsWith("_total"), family.name);
    }
  }
  equal(m.get("linechat_up"), 1);
  equal(m.get("linechat_clients", { transport: "tcp" }), 1);
  equal(m.get("linechat_clients", { transport: "ws" }), 1);
  equal(m.get("linechat_lines_received_total"), 5);
  equal(m.get("linechat_deliveries_total"), 10);
  equal(m.get("linechat_closes_total", { reason: "line-too-long" }), 1);
  equal(m.get("linechat_closes_total", { reason: "eof" }), 0);
  ok(m.get("linechat_received_bytes_total") > 5 * 7 + 100);
  ok(m.get("linechat_sent_bytes_total") > 0);
  equal(m.get("linechat_pending_output_bytes"), 0);
  equal(m.get("linechat_log_lines_dropped_total"), 0);
  ws.socket.close();
  await ws.closed;
});

Deno.test("/healthz answers 200 while the server accepts and 503 while it shuts down", async () => {
  const t = await startServer({ httpPort: 0, shutdownGraceMs: 1500 });
  const ok200 = await fetch(`${base(t)}/healthz`);
  equal(ok200.status, 200);
  deepEqual(await ok200.json(), { status: "ok", clients: 0 });
  // A client that never reads, with output queued, keeps shutdown going.
  const [sender] = await t.clients(1);
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
  await waitFor(() => t.server.clientCount === 2, "two clients");
  const line = new TextEncoder().encode("s".repeat(60_000) + "\n");
  // Not awaited: flood control may stop reading the sender meanwhile.
  const writing = (async () => {
    for (let i = 0; i < 300; i++) await sender.write(line);
  })().catch(() => {});
  await waitFor(
    () => t.server.ledger.total > 0,
    "output queued for stuck",
    20_000,
  );
  const stopping = t[Symbol.asyncDispose]();
  await waitFor(() => t.server.shuttingDown, "shutdown under way");
  const late = await fetch(`${base(t)}/healthz`);
  equal(late.status, 503);
  equal((await late.json()).status, "shutting-down");
  await stopping;
  stuck.close();
  await writing;
});

Deno.test("the page is served with its types and a content security policy; others are 404 and 405", async () => {
  await using t = await startServer({ httpPort: 0 });
  for (
    const [path, type] of [
      ["/", /^text\/html/],
      ["/app.js", /^text\/javascript/],
      ["/style.css", /^text\/css/],
    ] as const
  ) {
    const response = await fetch(`${base(t)}${path}`);
    equal(response.status, 200, path);
    match(response.headers.get("content-type")!, type);
    match(
      response.headers.get("content-security-policy")!,
      /default-src 'self'/,
    );
    await response.body?.cancel();
  }
  const missing = await fetch(`${base(t)}/../etc/passwd`);
  equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(`${base(t)}/`, { method: "POST", body: "x" });
  equal(post.status, 405);
  await post.body?.cancel();
  const head = await fetch(`${base(t)}/`, { method: "HEAD" });
  equal(head.status, 200);
  equal((await head.arrayBuffer()).byteLength, 0);
});

Deno.test("a request that is not a WebSocket handshake is refused at /ws", async () => {
  await using t = await startServer({ httpPort: 0 });
  const plain = await fetch(`${base(t)}/ws`);
  equal(plain.status, 426);
  await plain.body?.cancel();
});

/** A bare ops port on a free port, with `options` over test defaults. */
function opsPort(options: Partial<HttpServerOptions> = {}) {
  return listenHttp({
    hostname: "127.0.0.1",
    port: 0,
    maxLineBytes: 1024,
    onWebSocket: (transport) => transport.close(),
    metrics: () => "",
    health: () => ({ ok: true, clients: 0 }),
    onAcceptError: () => {},
    ...options,
  });
}

Deno.test("a request head too long or too slow is closed; the server goes on", async () => {
  const http = opsPort({ maxRequestBytes: 1024, requestTimeoutMs: 200 });
  const port = http.addr.port;
  const closed = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(1024);
    try {
      while (await conn.read(buffer) !== null) { /* discard */ }
    } catch {
      // Reset: closed too.
    }
    conn.close();
  };
  const long = await Deno.connect({ hostname: "127.0.0.1", port });
  await long.write(
    new TextEncoder().encode("GET / HTTP/1.1\r\nX: " + "a".repeat(2000)),
  );
  await closed(long);
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  await slow.write(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  const start = Date.now();
  await closed(slow);
  ok(Date.now() - start >= 150, "closed by the request timeout");
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  equal(health.status, 200);
  await health.body?.cancel();
  await http.close();
});

Deno.test("half-sent request heads cannot lock the ops port: the longest waiting makes room, of the newcomer's address first", async () => {
  const refused: string[] = [];
  const http = opsPort({
    maxPendingRequests: 4,
    maxPendingRequestsPerIp: 6,
    onRefused: (why) => refused.push(why),
  });
  const port = http.addr.port;
  const half = new TextEncoder().encode("GET / HTTP/1.1\r\n");
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 4; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(half);
    silent.push(conn);
  }
  // All 4 slots held: a real request still gets in, the oldest goes.
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  equal(health.status, 200);
  await health.body?.cancel();
  deepEqual(refused, ["evicted"]);
  equal(await silent[0].read(new Uint8Array(16)), null, "the oldest closed");
  // With room for more, one address's share still holds (6): its 7th
  // closes its own longest waiting.
  await http.close();
  for (const conn of silent) conn.close();
  silent.length = 0;
  refused.length = 0;
  const wide = opsPort({
    maxPendingRequests: 100,
    maxPendingRequestsPerIp: 6,
    onRefused: (why) => refused.push(why),
  });
  for (let i = 0; i < 7; i++) {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: wide.addr.port,
    });
    await conn.write(half);
    silent.push(conn);
  }
  await waitFor(() => refused.length === 1, "the per-address share");
  deepEqual(refused, ["per-ip"]);
  equal(await silent[0].read(new Uint8Array(16)), null, "its oldest closed");
  const healthToo = await fetch(`http://127.0.0.1:${wide.addr.port}/healthz`);
  equal(healthToo.status, 200, "a real request from that address gets in");
  await healthToo.body?.cancel();
  for (const conn of silent) conn.close();
  await wide.close();
});
