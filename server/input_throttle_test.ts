import { equal } from "node:assert/strict";
import { InputThrottle } from "./input_throttle.ts";

Deno.test("§4.12 a second's worth of lines goes at once; more waits for its share", () => {
  const throttle = new InputThrottle({ linesPerSecond: 100 }, 0);
  equal(throttle.consume(100, 0, 0), 0);
  equal(throttle.consume(50, 0, 0), 500);
  // 500 ms later the debt is paid: the next line waits 10 ms.
  equal(throttle.consume(1, 0, 500), 10);
});

Deno.test("§4.12 the byte cap applies on its own, whichever bucket is emptier", () => {
  const throttle = new InputThrottle(
    { linesPerSecond: 1000, bytesPerSecond: 1000 },
    0,
  );
  equal(throttle.consume(1, 3000, 0), 2000);
  equal(throttle.consume(0, 0, 5000), 0, "refilled, never above a second");
  equal(throttle.consume(1, 1000, 5000), 0);
});
