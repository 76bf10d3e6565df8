// `deno task matrix` as a user runs it (conformance/matrix/main.ts).

import { equal, match, ok } from "node:assert/strict";
import { EXPECTATIONS_PATH } from "./expectations.ts";
import { REPO_ROOT } from "../../targets/servers.ts";

async function matrix(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}/conformance/matrix/main.ts`, ...args],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** Runs `fn` with a fresh output directory, removed after. */
async function withOutDir(fn: (outDir: string) => Promise<void>) {
  const outDir = await Deno.makeTempDir({ prefix: "matrix-cli-" });
  try {
    await fn(outDir);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}

Deno.test("matrix CLI: writes matrix.md, matrix.json, matrix.html and each report", async () => {
  await withOutDir(async (outDir) => {
    const { code, stderr } = await matrix(
      "--servers",
      "ours",
      "--only",
      "relay.basic,framing.lf",
      "--out-dir",
      outDir,
    );
    equal(code, 0, stderr);
    match(stderr, /matrix: 1 servers × 2 cases/);
    const md = await Deno.readTextFile(`${outDir}/matrix.md`);
    match(md, /^\| Case \| § \| Level \| linechat \|$/m);
    match(md, /^\| `relay\.basic` \| §2\.1 \| MUST \| ✅ \|$/m);
    const doc = JSON.parse(await Deno.readTextFile(`${outDir}/matrix.json`));
    equal(doc.servers[0].report, "reports/ours.json");
    const report = JSON.parse(
      await Deno.readTextFile(`${outDir}/reports/ours.json`),
    );
    equal(report.summary.pass, 2);
    const html = await Deno.readTextFile(`${outDir}/matrix.html`);
    ok(html.includes('href="#e-ours-framing.lf"'));
    // Run at other settings than the expectations: said, not compared.
    match(stderr, /not compared/);
  });
});

Deno.test("matrix CLI: bad command lines exit 2 and leave expectations.json alone", async () => {
  const before = await Deno.readTextFile(EXPECTATIONS_PATH);
  for (
    const [args, message] of [
      [["--servers", "nginx"], /--servers: unknown nginx/],
      [["--repeat", "2"], /--repeat goes with --update-expectations/],
      [
        ["--update-expectations", "--clients", "7"],
        /records verdicts at the settings/,
      ],
      [["--bogus"], /Unknown option '--bogus'/],
    ] as const
  ) {
    const { code, stderr } = await matrix(...args);
    equal(code, 2, args.join(" "));
    match(stderr, message);
  }
  equal(await Deno.readTextFile(EXPECTATIONS_PATH), before);
});

Deno.test("matrix CLI: --check at the expectations' settings compares with them", async () => {
  await withOutDir(async (outDir) => {
    const { code, stderr } = await matrix(
      "--servers",
      "ours",
      "--only",
      "relay.basic",
      "--clients",
      "100",
      "--retries",
      "0",
      "--check",
      "--out-dir",
      outDir,
    );
    equal(code, 0, stderr);
    match(stderr, /expectations: every verdict as expected/);
  });
});

Deno.test("matrix CLI: --help says what it writes", async () => {
  const { code, stdout } = await matrix("--help");
  equal(code, 0);
  match(stdout, /matrix\.html/);
  match(stdout, /--update-expectations/);
});
