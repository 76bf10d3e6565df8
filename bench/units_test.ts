import { deepEqual } from "node:assert/strict";
import { formatBytes, formatCount, formatMs } from "./units.ts";

Deno.test("formatBytes uses binary units", () => {
  deepEqual(
    [0, 1023, 5734, 1024 * 1024 * 40.1].map(formatBytes),
    ["0 B", "1023 B", "5.6 KiB", "40.1 MiB"],
  );
});

Deno.test("formatCount rounds and separates thousands", () => {
  deepEqual([0, 999.6, 1_234_567].map(formatCount), [
    "0",
    "1,000",
    "1,234,567",
  ]);
});

Deno.test("formatMs keeps about three significant digits", () => {
  deepEqual(
    [250, 42.42, 4.242, 0.4242].map(formatMs),
    ["250", "42.4", "4.24", "0.424"],
  );
});
