import { equal } from "node:assert/strict";
import { sleep, within } from "./_async.ts";

Deno.test("within gives the promise's value when it settles in time", async () => {
  equal(await within(1000, Promise.resolve("now"), "late"), "now");
});

Deno.test("within gives the fallback when the promise is slower", async () => {
  equal(await within(5, sleep(200).then(() => "slow"), "late"), "late");
});
