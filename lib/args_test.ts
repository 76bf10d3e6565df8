import { deepEqual, equal, throws } from "node:assert/strict";
import { parseInteger, parseNumber, parseTarget, UsageError } from "./args.ts";

Deno.test("parseInteger takes plain numbers, separators and k/m/g suffixes", () => {
  equal(parseInteger("--n", "42"), 42);
  equal(parseInteger("--n", "10_000"), 10000);
  equal(parseInteger("--n", "64k"), 65536);
  equal(parseInteger("--n", "4MiB"), 4 * 1024 * 1024);
  equal(parseInteger("--n", "1g"), 1024 ** 3);
});

Deno.test("parseInteger rejects junk and out-of-range values with the flag's name", () => {
  for (const bad of ["", "abc", "-1", "1.5", "12x"]) {
    throws(
      () => parseInteger("--n", bad),
      (e) => e instanceof UsageError && /--n/.test(e.message),
    );
  }
  throws(() => parseInteger("--port", "70000", { max: 65535 }), /out of range/);
  throws(() => parseInteger("--n", "0", { min: 1 }), /out of range/);
});

Deno.test("parseNumber accepts fractions within bounds", () => {
  equal(parseNumber("--x", "2.5"), 2.5);
  throws(() => parseNumber("--x", "nope"), UsageError);
  throws(() => parseNumber("--x", "-1"), UsageError);
});

Deno.test("parseTarget reads host:port, bare ports, bare hosts and [v6]:port", () => {
  deepEqual(parseTarget("example:1234"), { hostname: "example", port: 1234 });
  deepEqual(parseTarget("8000"), { hostname: "127.0.0.1", port: 8000 });
  deepEqual(parseTarget("localhost"), { hostname: "localhost", port: 7687 });
  deepEqual(parseTarget(":9"), { hostname: "127.0.0.1", port: 9 });
  deepEqual(parseTarget("[::1]:7000"), { hostname: "::1", port: 7000 });
  for (const bad of ["host:0", "host:99999", "host:x", "::1:80"]) {
    throws(() => parseTarget(bad), UsageError);
  }
});
