import { deepEqual, equal } from "node:assert/strict";
import { usageError } from "../_testing.ts";
import { parseLoadArgs, resolveTargets } from "./cli.ts";

Deno.test("parseLoadArgs: defaults", () => {
  const args = parseLoadArgs(["--target", "127.0.0.1:7687"]);
  deepEqual(args.targets, ["127.0.0.1:7687"]);
  deepEqual(args.load, {
    clients: 100,
    senders: 1,
    rate: 100,
    size: 64,
    payloadFile: undefined,
    durationMs: 10_000,
    warmupMs: 2000,
    lines: undefined,
    connectRate: 1000,
    window: 256,
    slowConsumers: 0,
    drainMs: 5000,
    workers: 1,
    rssSteps: 10,
    rssSettleMs: 250,
    maxLagMs: 20,
    maxCpu: 0.9,
    maxOtherCpu: 1,
    spinMs: 0,
  });
  deepEqual([args.json, args.latency, args.hdrOut, args.caFiles], [
    false,
    false,
    undefined,
    [],
  ]);
});

Deno.test("parseLoadArgs: every flag", () => {
  const args = parseLoadArgs([
    "--spawn",
    "ncat -l --broker 127.0.0.1 {port}",
    "--clients",
    "10k",
    "--senders=10",
    "--rate",
    "0.5",
    "--size",
    "1k",
    "--duration",
    "2m",
    "--warmup",
    "500ms",
    "--lines",
    "1",
    "--connect-rate",
    "0",
    "--window",
    "16",
    "--slow-consumers",
    "2",
    "--drain",
    "1.5",
    "--rss-steps",
    "4",
    "--json",
  ]);
  equal(args.spawn, "ncat -l --broker 127.0.0.1 {port}");
  deepEqual(args.targets, ["127.0.0.1:{port}"]);
  equal(args.json, true);
  deepEqual(
    [args.load.clients, args.load.senders, args.load.rate, args.load.size],
    [10_240, 10, 0.5, 1024],
  );
  deepEqual(
    [args.load.durationMs, args.load.warmupMs, args.load.drainMs],
    [120_000, 500, 1500],
  );
  deepEqual(
    [args.load.lines, args.load.connectRate, args.load.window],
    [1, 0, 16],
  );
  deepEqual([args.load.slowConsumers, args.load.rssSteps], [2, 4]);
});

Deno.test("parseLoadArgs: repeated --target gives the nodes of one room", () => {
  const args = parseLoadArgs(["--target", ":7000", "--target", ":7001"]);
  deepEqual(resolveTargets(args.targets), [
    { kind: "tcp", hostname: "127.0.0.1", port: 7000, path: "" },
    { kind: "tcp", hostname: "127.0.0.1", port: 7001, path: "" },
  ]);
});

Deno.test("parseLoadArgs: TLS and WebSocket targets, and the spawned server's ports", () => {
  const args = parseLoadArgs([
    "--spawn",
    "deno run -A server/main.ts --port {port} --http-port {port+1} --quiet",
    "--target",
    "ws://127.0.0.1:{port+1}/ws",
    "--target",
    "tls://localhost:{port}",
    "--ca",
    "ca.pem",
  ]);
  deepEqual(resolveTargets(args.targets, 9000), [
    { kind: "ws", hostname: "127.0.0.1", port: 9001, path: "/ws" },
    { kind: "tls", hostname: "localhost", port: 9000, path: "" },
  ]);
  deepEqual(args.caFiles, ["ca.pem"]);
  deepEqual(
    resolveTargets(["wss://[::1]:8443/chat?room=1"]),
    [{ kind: "wss", hostname: "::1", port: 8443, path: "/chat?room=1" }],
  );
});

Deno.test("parseLoadArgs: workers, a ramp, a payload file, the latency outputs", () => {
  const args = parseLoadArgs([
    "--target",
    ":1",
    "--workers",
    "3",
    "--rate",
    "100:1000:10s:4",
    "--payload-file",
    "lines.txt",
    "--latency",
    "--hdr-out",
    "run.hlog",
  ]);
  deepEqual(
    [args.load.workers, args.load.rate, args.load.payloadFile],
    [3, { from: 100, to: 1000, overMs: 10_000, steps: 4 }, "lines.txt"],
  );
  deepEqual([args.latency, args.hdrOut], [true, "run.hlog"]);
  equal(
    parseLoadArgs(["--target", ":1", "--workers", "auto"]).load.workers,
    "auto",
  );
});

const failure = (args: string[]) => usageError(parseLoadArgs, args);

Deno.test("parseLoadArgs: every mistake is one UsageError line", () => {
  for (
    const bad of [
      [],
      ["--target", "x:1", "--spawn", "s {port}"],
      ["--spawn", "no placeholder"],
      ["--spawn", "s {port}", "--pid", "3"],
      ["--target", ":1", "--senders", "5", "--clients", "4"],
      ["--target", ":1", "--duration", "soon"],
      ["--target", ":1", "--bogus"],
      ["--target", ":1", "extra"],
      ["--target", ":{port}"],
      ["--spawn", "s {port}", "--target", "127.0.0.1:7000"],
      ["--target", "http://x:1"],
      ["--target", ":1", "--size", "10", "--payload-file", "f"],
      ["--target", ":1", "--rate", "100:0:10s"],
      ["--target", ":1", "--rate", "100:200:10s:1"],
      ["--target", ":1", "--workers", "0"],
    ]
  ) {
    const message = failure(bad);
    equal(message.includes("\n"), false, message);
  }
  equal(parseLoadArgs(["--help"]).help, true);
});

Deno.test("parseLoadArgs: an unknown flag is named", () => {
  equal(failure(["--target", ":1", "--bogus"]), "Unknown option '--bogus'");
});

Deno.test("parseLoadArgs: negative and out-of-range values name the flag and its range", () => {
  deepEqual(
    [
      ["--rate", "-5"],
      ["--clients", "-5"],
      ["--clients", "0"],
      ["--senders", "5", "--clients", "2"],
      ["--duration", "-1s"],
      ["--window", "-1"],
      ["--max-cpu", "65"],
      ["--spin-ms=-1"],
    ].map((flags) => failure(["--target", ":1", ...flags])),
    [
      '--rate: expected a number from 0 to 1000000, got "-5"',
      "--clients: -5 is out of range (1 to 100000)",
      "--clients: 0 is out of range (1 to 100000)",
      "--senders: 5 is out of range (0 to 2)",
      "--duration: -1s is out of range (0 ms or more)",
      "--window: -1 is out of range (1 to 9007199254740991)",
      '--max-cpu: expected a number from 0 to 64, got "65"',
      '--spin-ms: expected a number from 0 to 100, got "-1"',
    ],
  );
});
