import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { chunk, mib, percentile, size, withTimeout } from "./_helpers.ts";

Deno.test("percentile is the nearest rank and leaves its input alone", () => {
  const values = [5, 1, 4, 2, 3];
  equal(percentile(values, 50), 3);
  equal(percentile(values, 99), 5);
  equal(percentile(values, 0), 1);
  deepStrictEqual(values, [5, 1, 4, 2, 3]);
  equal(Number.isNaN(percentile([], 50)), true);
});

Deno.test("sizes read as whole KiB or MiB when they are, else bytes", () => {
  deepStrictEqual([size(1024), size(16 * 1024 * 1024), size(1025)], [
    "1 KiB",
    "16 MiB",
    "1025 bytes",
  ]);
  equal(mib(1024 * 1024), "1.0 MiB");
  deepStrictEqual(chunk(new Uint8Array(3), 2).map((p) => p.length), [2, 1]);
});

Deno.test("withTimeout rejects with the message given, and clears its timer", async () => {
  equal(await withTimeout(Promise.resolve(1), 1000, "late"), 1);
  await rejects(withTimeout(new Promise(() => {}), 1, "late"), /^Error: late$/);
});
