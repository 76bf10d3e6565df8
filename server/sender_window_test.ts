import { deepEqual, equal } from "node:assert/strict";
import { SenderWindow } from "./sender_window.ts";

function recorded(limitBytes: number, waitMs = 60_000) {
  const events: string[] = [];
  const window = new SenderWindow({
    limitBytes,
    waitMs,
    onPause: () => events.push("pause"),
    onResume: (expired) => events.push(expired ? "expired" : "resume"),
  });
  return { window, events };
}

Deno.test("§4.9 a sender is paused at its window and resumed at half of it", () => {
  const { window, events } = recorded(100);
  const epoch = window.charge(60);
  window.check();
  deepEqual(events, [], "under the window");
  window.charge(40);
  window.check();
  deepEqual(events, ["pause"]);
  window.check();
  deepEqual(events, ["pause"], "pausing twice does nothing");
  window.settle(40, epoch);
  deepEqual(events, ["pause"], "60 is still over half");
  window.settle(10, epoch);
  deepEqual(events, ["pause", "resume"]);
  window.close();
});

Deno.test("§4.9 a pause ends after the wait, and what was charged before no longer counts", async () => {
  const { window, events } = recorded(100, 20);
  const old = window.charge(150);
  window.check();
  await new Promise((resolve) => setTimeout(resolve, 60));
  deepEqual(events, ["pause", "expired"]);
  equal(window.outstanding, 0);
  window.settle(150, old);
  equal(window.outstanding, 0, "a batch of an expired wait settles nothing");
  const fresh = window.charge(30);
  window.settle(30, fresh);
  equal(window.outstanding, 0);
  window.close();
});

Deno.test("a closed window never pauses and its timer is gone", () => {
  const { window, events } = recorded(10, 10);
  window.charge(100);
  window.close();
  window.check();
  deepEqual(events, []);
});
