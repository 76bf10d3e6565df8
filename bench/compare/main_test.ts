import { equal } from "node:assert/strict";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function compare(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("main: an unknown flag is one line on stderr and exit 2", async () => {
  deepEqualRun(await compare(["--bogus"]), {
    code: 2,
    stderr: "linechat-compare: Unknown option '--bogus' (try --help)\n",
  });
});

Deno.test("main: a negative round count names the flag and its range, exit 2", async () => {
  deepEqualRun(await compare(["--rounds", "-1"]), {
    code: 2,
    stderr:
      "linechat-compare: --rounds: -1 is out of range (1 to 100) (try --help)\n",
  });
});

function deepEqualRun(
  actual: { code: number; stderr: string },
  expected: { code: number; stderr: string },
): void {
  equal(actual.stderr, expected.stderr);
  equal(actual.code, expected.code);
}
