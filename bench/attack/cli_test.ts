import { deepEqual, equal, match, throws } from "node:assert/strict";
import { UsageError } from "../../lib/args.ts";
import { ATTACK_NAMES, ATTACKS } from "./attacks.ts";
import { ATTACK_USAGE, parseAttackArgs, shellQuote } from "./cli.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

Deno.test("parseAttackArgs: each attack's defaults, against our server", () => {
  const flood = parseAttackArgs(["flood"]);
  deepEqual(flood.target, { kind: "ours", transport: "node", env: {} });
  deepEqual(flood.options, {
    readers: 50,
    rate: 10,
    baselineMs: 2000,
    durationMs: 20_000,
    drainMs: 5000,
    maxBytes: 4 * 1024 ** 3,
  });
  equal(
    flood.rerun,
    "deno task attack flood --readers 50 --rate 10 --baseline 2s --duration 20s --drain 5s --max-bytes 4g",
  );
  deepEqual(parseAttackArgs(["tiny-lines"]).options, {
    idle: 300,
    rate: 10_000,
    lineBytes: 3,
    durationMs: 60_000,
    watchMs: 15_000,
    sampleEveryMs: 5000,
    drainMs: 2000,
  });
  deepEqual(parseAttackArgs(["reset"]).options, {
    rounds: 100,
    lines: 5,
    parallel: 1,
    writerRate: 1000,
    roundWaitMs: 500,
  });
  for (const name of ATTACK_NAMES) {
    const args = parseAttackArgs([name]);
    equal(args.attack, name);
    // Every default is within its own bounds, and every flag is in --help.
    equal(Object.keys(args.options).length, ATTACKS[name].flags.length);
    for (const spec of ATTACKS[name].flags) {
      match(ATTACK_USAGE, new RegExp(`--${spec.flag} `));
    }
  }
});

Deno.test("parseAttackArgs: server flags, and a rerun command that gives them back", () => {
  const args = parseAttackArgs([
    "tiny-lines",
    "--spawn",
    "ncat -l --broker 127.0.0.1 {port}",
    "--max-old-space-size",
    "512",
    "--server-env",
    "A=b c",
    "--duration=10s",
    "--idle",
    "1k",
    "--json",
  ]);
  deepEqual(args.target, {
    kind: "spawn",
    command: "ncat -l --broker 127.0.0.1 {port}",
    env: { A: "b c", DENO_V8_FLAGS: "--max-old-space-size=512" },
    jsonLog: false,
  });
  equal(args.options.durationMs, 10_000);
  equal(args.options.idle, 1024);
  equal(args.json, true);
  equal(
    args.rerun,
    'deno task attack tiny-lines --spawn "ncat -l --broker 127.0.0.1 {port}" ' +
      '--max-old-space-size 512 --server-env "A=b c" --idle 1k --rate 10000 ' +
      "--line-bytes 3 --duration 10s --watch 15s --sample-every 5s --drain 2s --json",
  );
  deepEqual(parseAttackArgs(["reset", "--transport", "node"]).target, {
    kind: "ours",
    transport: "node",
    env: {},
  });
  deepEqual(
    parseAttackArgs(["per-ip", "--target", "10.0.0.5:7000", "--pid", "42"])
      .target,
    { kind: "address", hostname: "10.0.0.5", port: 7000, pid: 42 },
  );
  equal(
    parseAttackArgs(["flood", "--spawn", "x {port}", "--server-log", "json"])
      .target.kind === "spawn",
    true,
  );
});

Deno.test("parseAttackArgs: mistakes are one-line usage errors", () => {
  for (
    const bad of [
      [],
      ["bogus"],
      ["flood", "reset"],
      ["flood", "--rounds", "3"],
      ["flood", "--bogus"],
      ["flood", "--readers", "1"],
      ["flood", "--duration", "soon"],
      ["flood", "--spawn", "no placeholder"],
      ["flood", "--spawn", "x {port}", "--target", ":1"],
      ["flood", "--pid", "3"],
      ["flood", "--spawn", "x {port}", "--transport", "node"],
      ["flood", "--transport", "tcp"],
      ["flood", "--server-log", "json"],
      ["flood", "--target", ":1", "--max-old-space-size", "512"],
      ["flood", "--server-env", "novalue"],
      ["blocked-stdout", "--target", ":1"],
    ]
  ) {
    throws(() => parseAttackArgs(bad), UsageError, bad.join(" "));
  }
  equal(parseAttackArgs(["--help"]).help, true);
});

Deno.test("shellQuote quotes only what a shell would split or expand", () => {
  deepEqual(
    ["500ms", "a b", `it's "x"`, "$HOME"].map(shellQuote),
    ["500ms", `"a b"`, `'it'\\''s "x"'`, `'$HOME'`],
  );
});

Deno.test("main: a bad flag is one line on stderr and exit 2; a server that cannot start, exit 1", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const bad = await run(["flood", "--readers", "many"]);
  equal(bad.code, 2);
  const err = new TextDecoder().decode(bad.stderr);
  equal(err.trim().split("\n").length, 1);
  match(err, /^linechat-attack: --readers: expected a whole number/);
  const down = await run(["reset", "--spawn", "false {port}"]);
  equal(down.code, 1);
  match(
    new TextDecoder().decode(down.stderr),
    /exited \(exit code 1\) before listening/,
  );
});
