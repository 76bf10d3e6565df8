import { equal, match } from "node:assert/strict";

const BUILD = new URL("./build.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BUILD, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { PATH: "/nonexistent" }, // --help must not need nim, nor build
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("ref:build --help prints its usage and builds nothing", async () => {
  const { code, stdout } = await run(["--help"]);
  equal(code, 0);
  match(stdout, /^linechat ref:build: .*\n\nUsage: deno task ref:build/);
});

Deno.test("ref:build: a bad flag is one line and exit 2; no nim is one line and exit 1", async () => {
  const bad = await run(["--frobnicate"]);
  equal(bad.code, 2);
  match(
    bad.stderr,
    /^linechat-ref-build: Unknown option '--frobnicate' \(try --help\)$/,
  );
  const noNim = await run([]);
  equal(noNim.code, 1);
  match(noNim.stderr, /^linechat-ref-build: nim not found on PATH/);
});
