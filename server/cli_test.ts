import { equal, throws } from "node:assert/strict";
import { parseServerArgs } from "./cli.ts";
import { UsageError } from "../cli/args.ts";

Deno.test("server flags default to the documented limits", () => {
  const args = parseServerArgs([]);
  equal(args.hostname, "127.0.0.1");
  equal(args.port, 7687);
  equal(args.maxLineBytes, 65536);
  equal(args.maxPendingBytes, 4 * 1024 * 1024);
  equal(args.maxClients, 10000);
  equal(args.log, "text");
  equal(args.quiet, false);
  equal(args.transport, "deno");
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
    /at least --max-line-bytes \+ 2/,
  );
  throws(() => parseServerArgs(["--nope"]), /nope/);
});
