import { deepEqual, equal, throws } from "node:assert/strict";
import { clusterFlagIn, parseServerArgs } from "./cli.ts";
import { UsageError } from "../lib/args.ts";

Deno.test("server flags default to the documented limits", () => {
  const args = parseServerArgs([]);
  equal(args.hostname, "127.0.0.1");
  equal(args.port, 7687);
  equal(args.maxLineBytes, 65536);
  equal(args.maxPendingBytes, 4 * 1024 * 1024);
  equal(args.maxClients, 10000);
  equal(args.log, "text");
  equal(args.quiet, false);
  equal(args.transport, "node");
  equal(args.maxTotalPendingBytes, 1024 ** 3);
  equal(args.writeTimeoutMs, 30_000);
  equal(args.senderWindowBytes, 256 * 1024);
  equal(args.senderWaitMs, 1000);
  equal(args.maxInputRate, undefined);
  equal(args.maxClientsPerIp, 0);
  equal(args.idleTimeoutMs, 0);
  equal(args.lineTimeoutMs, 0);
});

Deno.test("--transport: node by default, deno for TLS unless told, never node with TLS", () => {
  const tls = ["--tls-cert", "c.pem", "--tls-key", "k.pem"];
  equal(parseServerArgs(tls).transport, "deno");
  equal(parseServerArgs(["--transport", "deno"]).transport, "deno");
  throws(
    () => parseServerArgs([...tls, "--transport", "node"]),
    /TLS is served by --transport deno only/,
  );
});

Deno.test("server flags parse the hostile-client limits", () => {
  const args = parseServerArgs([
    "--max-total-pending-bytes=64m",
    "--write-timeout=5000",
    "--sender-window=64k",
    "--sender-wait=200",
    "--max-input-rate=50/16k",
    "--max-clients-per-ip=8",
    "--idle-timeout=60000",
    "--line-timeout=10000",
  ]);
  equal(args.maxTotalPendingBytes, 64 * 1024 * 1024);
  equal(args.writeTimeoutMs, 5000);
  equal(args.senderWindowBytes, 64 * 1024);
  equal(args.senderWaitMs, 200);
  deepEqual(args.maxInputRate, { linesPerSecond: 50, bytesPerSecond: 16384 });
  equal(args.maxClientsPerIp, 8);
  equal(args.idleTimeoutMs, 60000);
  equal(args.lineTimeoutMs, 10000);
  deepEqual(parseServerArgs(["--max-input-rate", "20"]).maxInputRate, {
    linesPerSecond: 20,
  });
});

Deno.test("server flags parse sizes and formats", () => {
  const args = parseServerArgs([
    "--port=0",
    "--max-line-bytes",
    "1k",
    "--max-pending-bytes",
    "1m",
    "--log",
    "json",
    "--quiet",
  ]);
  equal(args.port, 0);
  equal(args.maxLineBytes, 1024);
  equal(args.maxPendingBytes, 1024 * 1024);
  equal(args.log, "json");
  equal(args.quiet, true);
});

Deno.test("bad server flags are usage errors", () => {
  throws(() => parseServerArgs(["--log", "xml"]), UsageError);
  throws(() => parseServerArgs(["--transport", "udp"]), /--transport/);
  throws(() => parseServerArgs(["--port", "-3"]), UsageError);
  throws(() => parseServerArgs(["--max-clients", "0"]), UsageError);
  throws(() => parseServerArgs(["stray"]), UsageError);
  throws(
    () =>
      parseServerArgs(["--max-line-bytes", "1m", "--max-pending-bytes", "1m"]),
    /at least the cost of one longest line, --max-line-bytes \+ 66/,
  );
  throws(
    () => parseServerArgs(["--max-total-pending-bytes", "1m"]),
    /--max-total-pending-bytes .* at least --max-pending-bytes/,
  );
  for (const bad of ["0", "x", "5/", "5/0", "1/2/3", "-5"]) {
    throws(
      () => parseServerArgs(["--max-input-rate", bad]),
      (e) => e instanceof UsageError && /--max-input-rate/.test(e.message),
      bad,
    );
  }
  throws(() => parseServerArgs(["--write-timeout", "0"]), /--write-timeout/);
  throws(() => parseServerArgs(["--sender-window", "10"]), /--sender-window/);
  throws(() => parseServerArgs(["--nope"]), /nope/);
});

Deno.test("cluster flags make the arguments a node's (run by cluster/node.ts)", () => {
  equal(clusterFlagIn(["--port", "0"]), undefined);
  equal(clusterFlagIn(["--redis", "redis://h"]), "--redis");
  equal(
    clusterFlagIn(["--quiet", "--bus-backlog-bytes=1m"]),
    "--bus-backlog-bytes",
  );
  equal(clusterFlagIn(["--roomy"]), undefined);
  throws(() => parseServerArgs(["--redis", "redis://h"]), /redis/);
});
