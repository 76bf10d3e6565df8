import { deepStrictEqual, throws } from "node:assert/strict";
import { UsageError } from "../../lib/args.ts";
import { parseConformanceArgs } from "../main.ts";
import { loadDialect } from "./cli.ts";

Deno.test("--dialect takes inline JSON or a profile file, and says what is wrong", () => {
  deepStrictEqual(loadDialect('{"echo": true}'), { echo: true });
  const file = Deno.makeTempFileSync({ suffix: ".json" });
  try {
    Deno.writeTextFileSync(file, '{"notices": ["^\\\\* "]}');
    deepStrictEqual(loadDialect(file), { notices: ["^\\* "] });
  } finally {
    Deno.removeSync(file);
  }
  throws(() => loadDialect("/nonexistent/profile.json"), UsageError);
  throws(() => loadDialect('{"relay": "^(.*)$"}'), /payload/);
});

Deno.test("--dialect and --detect reach the options", () => {
  const args = parseConformanceArgs([
    "--target",
    "127.0.0.1:7687",
    "--dialect",
    '{"echo": true}',
    "--detect",
  ]);
  deepStrictEqual(args.options.dialect, { echo: true });
  deepStrictEqual(args.detect, true);
  deepStrictEqual(
    parseConformanceArgs(["--target", "127.0.0.1:7687"]).options.dialect,
    undefined,
  );
});
