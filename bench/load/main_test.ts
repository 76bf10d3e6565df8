import { equal, match, ok } from "node:assert/strict";
import type { LoadReport } from "./report.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

async function load(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("main: an unknown flag is one line on stderr and exit 2", async () => {
  const { code, stderr } = await load(["--target", ":1", "--bogus"]);
  equal(code, 2);
  equal(stderr, "linechat-load: Unknown option '--bogus' (try --help)\n");
});

Deno.test("main: a negative rate names the flag and its range, exit 2", async () => {
  const { code, stderr } = await load(["--target", ":1", "--rate", "-5"]);
  equal(code, 2);
  equal(
    stderr,
    'linechat-load: --rate: expected a number from 0 to 1000000, got "-5" (try --help)\n',
  );
});

Deno.test("main: a file flag whose file cannot be used is one line naming the flag, exit 2, before connecting", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/empty`, "");
    for (
      const [flags, expected] of [
        [["--payload-file", `${dir}/none`], /^--payload-file: cannot read /],
        [
          ["--payload-file", `${dir}/empty`],
          /^--payload-file: the payload file has no line/,
        ],
        [["--ca", `${dir}/none`], /^--ca: cannot read /],
        [["--hdr-out", `${dir}/no/such/dir`], /^--hdr-out: cannot write /],
      ] as const
    ) {
      // Port 1 refuses: reaching it would say so instead.
      const { code, stderr } = await load([
        "--target",
        "127.0.0.1:1",
        ...flags,
      ]);
      equal(code, 2, stderr);
      match(stderr.replace("linechat-load: ", ""), expected);
      equal(stderr.trim().split("\n").length, 1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: --spawn runs a shell command (X=1 and > /dev/null work) and samples its group", async () => {
  const { code, stdout, stderr } = await load([
    "--spawn",
    "X=1 deno run -A server/main.ts --port {port} > /dev/null",
    ...["--clients", "3", "--senders", "1", "--rate", "0", "--lines", "5"],
    ...["--duration", "2s", "--warmup", "0", "--rss-steps", "1"],
    ...["--max-cpu", "64", "--max-other-cpu", "1024", "--json"],
  ]);
  equal(code, 0, stderr);
  const report = JSON.parse(stdout) as LoadReport;
  equal(report.failure, null);
  equal(report.accounting.delivered, 10);
  ok(report.server !== null && report.server.pid > 0);
  // The group's memory: the shell and the server, more than a few MiB.
  ok(report.server.rssBeforeBytes > 8 * 1024 * 1024);
  equal(report.server.rssSamples.length, 2);
});

Deno.test("main: a server that cannot start is one line and exit 1", async () => {
  const { code, stderr } = await load([
    "--spawn",
    "echo nope >&2; exit 3 # {port}",
  ]);
  equal(code, 1);
  match(
    stderr,
    /^linechat-load: server exited \(exit code 3\) before listening on port \d+: nope\n$/,
  );
});

Deno.test("main: a refused target is one line saying so, and exit 1", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const { code, stdout, stderr } = await load([
    "--target",
    `127.0.0.1:${port}`,
  ]);
  equal(code, 1);
  equal(stdout, "");
  equal(stderr, `linechat-load: 127.0.0.1:${port} refused the connection\n`);
});

Deno.test("main: WebSocket clients of a spawned server on two workers, with --latency and --hdr-out", async () => {
  const hlog = await Deno.makeTempFile({ suffix: ".hlog" });
  try {
    const { code, stdout, stderr } = await load([
      "--spawn",
      "deno run -A server/main.ts --port {port} --http-port {port+1} --quiet",
      "--target",
      "ws://127.0.0.1:{port+1}/ws",
      ...["--clients", "4", "--senders", "2", "--rate", "50"],
      ...["--duration", "1s", "--warmup", "0", "--rss-steps", "1"],
      ...["--workers", "2", "--latency", "--hdr-out", hlog, "--json"],
      ...["--max-cpu", "64", "--max-other-cpu", "1024", "--max-lag-ms", "1e6"],
    ]);
    equal(code, 0, stderr);
    const report = JSON.parse(stdout) as LoadReport;
    equal(report.schemaVersion, 2);
    equal(report.tool.name, "linechat-load");
    match(report.config.target, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    equal(report.generator.workers, 2);
    equal(report.accounting.lost, 0);
    ok(report.accounting.delivered > 0);
    ok(report.latency.distribution!.percentiles.length >= 5);
    ok(report.timeline.length >= 1);
    const log = await Deno.readTextFile(hlog);
    match(log, /^#linechat-load ws:/);
    ok(log.trim().split("\n").filter((l) => /^\d/.test(l)).length >= 1);
  } finally {
    await Deno.remove(hlog);
  }
});
