// The suite over WebSocket and TLS (issue #14), against our server in
// process: a ws:// target runs what a WebSocket can carry and skips the
// rest with reasons; a mixed TCP + WebSocket run runs everything; tls://
// and wss:// targets work with --ca.

import { deepEqual, equal, match, rejects } from "node:assert/strict";
import { testWithTools } from "../_testing/tools.ts";
import { throwawayCertificate } from "../lib/throwaway_certificate.ts";
import { listen, Logger } from "../server/mod.ts";
import { runConformance } from "./runner.ts";

const CASES = [
  "relay.basic",
  "relay.no-echo",
  "relay.exactly-once",
  "framing.invalid-utf8",
  "framing.byte-by-byte",
  "disconnect.reset",
];

function verdicts(report: Awaited<ReturnType<typeof runConformance>>) {
  return Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]));
}

async function ourServer(tls?: { cert: string; key: string }) {
  const server = await listen({
    port: 0,
    httpPort: 0,
    tls,
    logger: new Logger({ write: () => {} }),
  });
  return {
    server,
    tcp: server.addr.port,
    http: server.httpAddr!.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("--target ws://: what a WebSocket carries passes; segments and resets are skipped, saying why", async () => {
  await using t = await ourServer();
  const report = await runConformance({
    targets: [`ws://127.0.0.1:${t.http}/ws`],
    only: CASES,
  });
  deepEqual(verdicts(report), {
    "relay.basic": "pass",
    "relay.no-echo": "pass",
    "relay.exactly-once": "pass",
    "framing.invalid-utf8": "pass",
    "framing.byte-by-byte": "skipped",
    "disconnect.reset": "skipped",
  });
  const why = (id: string) => report.cases.find((c) => c.id === id)!.message;
  match(why("framing.byte-by-byte"), /^needs a TCP or TLS target: .*§6/);
  match(why("disconnect.reset"), /^needs a plain TCP target/);
  equal(t.server.clientsByKind.ws, 0, "every WebSocket client left");
});

Deno.test("a mixed run (TCP and WebSocket targets) runs every case: the bridge carries the room", async () => {
  await using t = await ourServer();
  const report = await runConformance({
    targets: [`127.0.0.1:${t.tcp}`, `ws://127.0.0.1:${t.http}/ws`],
    only: CASES,
  });
  deepEqual(
    Object.values(verdicts(report)),
    CASES.map(() => "pass"),
    JSON.stringify(verdicts(report)),
  );
  deepEqual(report.targets, [
    `127.0.0.1:${t.tcp}`,
    `ws://127.0.0.1:${t.http}/ws`,
  ]);
});

testWithTools("tls:// and wss:// targets with --ca", ["openssl"], async () => {
  await using certificate = await throwawayCertificate();
  await using t = await ourServer(certificate);
  const report = await runConformance({
    targets: [`tls://localhost:${t.tcp}`, `wss://localhost:${t.http}/ws`],
    caCerts: [certificate.ca],
    only: ["relay.basic", "relay.exactly-once", "framing.byte-by-byte"],
  });
  deepEqual(verdicts(report), {
    "relay.basic": "pass",
    "relay.exactly-once": "pass",
    "framing.byte-by-byte": "pass",
  });
});

Deno.test("--fuzz against WebSocket targets alone is a harness error saying it needs TCP", async () => {
  await using t = await ourServer();
  await rejects(
    runConformance({
      targets: [`ws://127.0.0.1:${t.http}/ws`],
      fuzz: { seed: 1, runs: 1 },
    }),
    /--fuzz speaks plain TCP/,
  );
});
