import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { parseConformanceArgs } from "./main.ts";

Deno.test("flags: targets repeat, globs split on commas, numbers take suffixes", () => {
  const args = parseConformanceArgs([
    "--target",
    "127.0.0.1:1",
    "--target",
    "127.0.0.1:2",
    "--only",
    "relay.*,framing.nul",
    "--skip",
    "limits",
    "--max-line-bytes",
    "1m",
    "--timeout-scale",
    "2.5",
    "-v",
  ]);
  deepStrictEqual(args.options.targets, ["127.0.0.1:1", "127.0.0.1:2"]);
  deepStrictEqual(args.options.only, ["relay.*", "framing.nul"]);
  deepStrictEqual(args.options.skip, ["limits"]);
  equal(args.options.maxLineBytes, 1024 * 1024);
  equal(args.options.timeoutScale, 2.5);
  equal(args.options.verbose, true);
  equal(args.options.level, "all");
  equal(args.options.clients, 500);
  equal(args.format, "pretty");
});

Deno.test("bad command lines are usage errors with one-line reasons", () => {
  const bad = [
    [[], /no target/],
    [
      ["--target", "x:1", "--spawn", "s {port}"],
      /with --spawn, name the server's ports as \{port\}/,
    ],
    [["--target", "http://x:1"], /bad target "http:\/\/x:1"/],
    [
      ["--target", "ws://x:1", "--ca", "/nonexistent.pem"],
      /^--ca: cannot read \/nonexistent.pem/,
    ],
    [["--spawn", "no placeholder"], /must contain \{port\}/],
    [["--target", "x:1", "--level", "may"], /--level/],
    [["--target", "x:1", "--format", "xml"], /--format/],
    [["--target", "x:1", "--clients", "lots"], /--clients/],
    [["--target", "x:1", "--bogus"], /Unknown option/],
    [["--target", "x:1", "stray"], /unexpected argument/],
    [["--target", "x:1", "--deadline", "soon"], /--deadline/],
    [["--target", "x:1", "--send-eol", "cr"], /--send-eol/],
  ] as const;
  for (const [argv, message] of bad) {
    throws(
      () => parseConformanceArgs([...argv]),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("--target takes tls://, ws:// and wss://; with --spawn it names the spawned ports", () => {
  const args = parseConformanceArgs([
    "--spawn",
    "server --port {port} --http-port {port+1}",
    "--target",
    "127.0.0.1:{port}",
    "--target",
    "ws://127.0.0.1:{port+1}/ws",
  ]);
  deepStrictEqual(args.options.targets, [
    "127.0.0.1:{port}",
    "ws://127.0.0.1:{port+1}/ws",
  ]);
  const tls = parseConformanceArgs([
    "--target",
    "tls://localhost:7000",
    "--target",
    "wss://localhost:7001/ws",
  ]);
  deepStrictEqual(tls.options.targets, [
    "tls://localhost:7000",
    "wss://localhost:7001/ws",
  ]);
});

Deno.test("--deadline, --send-eol and --keep-going", () => {
  const args = parseConformanceArgs([
    "--target",
    "127.0.0.1:1",
    "--deadline",
    "90s",
    "--send-eol",
    "crlf",
    "--keep-going",
  ]);
  equal(args.options.deadlineMs, 90_000);
  equal(args.options.sendEol, "crlf");
  equal(args.options.keepGoing, true);
  const defaults = parseConformanceArgs(["--target", "127.0.0.1:1"]);
  equal(defaults.options.deadlineMs, undefined, "6 min times the scale");
  equal(defaults.options.sendEol, "lf");
});

Deno.test("a selection that matches no case exits 2, so a typo cannot pass CI", async () => {
  for (const extra of [[], ["--list"]]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./main.ts", import.meta.url).pathname,
        "--target",
        "127.0.0.1:1",
        "--only",
        "nosuch",
        ...extra,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    equal(code, 2, extra.join(" "));
    ok(/no case matches/.test(new TextDecoder().decode(stderr)));
  }
});

Deno.test("--list and --help need no target", () => {
  equal(parseConformanceArgs(["--list"]).list, true);
  equal(parseConformanceArgs(["-h"]).help, true);
});

Deno.test("--list --format markdown is a table of every case; --schema prints the report schema", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./main.ts", import.meta.url).pathname,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const table = new TextDecoder().decode(
    (await run(["--list", "--format", "markdown"])).stdout,
  );
  const rows = table.trim().split("\n");
  if (!rows[0].startsWith("| id | clause | level | requirement |")) {
    throw new Error(`not a table: ${rows[0]}`);
  }
  if (!rows.some((row) => row.startsWith("| `relay.basic` | §2.1 | MUST |"))) {
    throw new Error("relay.basic missing");
  }
  const schema = JSON.parse(
    new TextDecoder().decode((await run(["--schema"])).stdout),
  );
  if (schema.$schema === undefined && schema.type === undefined) {
    throw new Error("not a JSON Schema");
  }
  const bad = await run(["--format", "markdown", "--target", "127.0.0.1:1"]);
  if (bad.code !== 2) {
    throw new Error(`--format markdown without --list: exit ${bad.code}`);
  }
});
