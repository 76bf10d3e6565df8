import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { UsageError } from "../../lib/args.ts";
import { startServer } from "../../lib/server_process.ts";
import { FAULT_NAMES, FAULTY_SERVERS } from "./faults.ts";
import { faultyServer } from "./main.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const MAIN = "deno run -A conformance/faulty/main.ts";

Deno.test("every faulty server says what it does wrong; correct has no fault", () => {
  // 39 for the cases, 2 that only a sequence shows (fuzzing), and more.
  ok(FAULT_NAMES.length >= 41, `${FAULT_NAMES.length} faulty servers`);
  deepStrictEqual(FAULTY_SERVERS.correct.faults, {});
  for (const name of FAULT_NAMES) {
    ok(/^[a-z0-9_]+$/.test(name), name);
    ok(FAULTY_SERVERS[name].description.length > 10, name);
  }
});

Deno.test("--fault takes a known name only", () => {
  deepStrictEqual(faultyServer("history").faults, { history: 20 });
  throws(
    () => faultyServer("toString"),
    (e: unknown) => e instanceof UsageError && /known: banner/.test(e.message),
  );
});

Deno.test("main.ts --fault NAME --port N serves that fault and says so", async () => {
  await using server = await startServer({
    command: `${MAIN} --fault echo --port {port}`,
    cwd: ROOT,
  });
  match(
    server.outputTail(),
    /listening addr=127\.0\.0\.1:\d+ faults=\{"echo":true\}/,
  );
});

Deno.test("main.ts with an unknown fault exits 2 naming the known ones", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/conformance/faulty/main.ts`,
      "--fault",
      "nope",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  equal(code, 2);
  match(new TextDecoder().decode(stderr), /unknown "nope" \(known: banner, /);
});
