import { equal } from "node:assert/strict";
import { describeStatus } from "./exit_status.ts";

Deno.test("describeStatus names signals, also as a shell's 128+N codes", () => {
  const status = (code: number, signal: Deno.Signal | null = null) => ({
    success: code === 0,
    code,
    signal,
  });
  equal(describeStatus(status(0)), "exit code 0");
  equal(describeStatus(status(2)), "exit code 2");
  equal(describeStatus(status(0, "SIGTERM")), "killed by SIGTERM");
  equal(
    describeStatus(status(141)),
    "killed by SIGPIPE (signal 13, exit code 141)",
  );
  equal(
    describeStatus(status(137)),
    "killed by SIGKILL (signal 9, exit code 137)",
  );
  equal(describeStatus(status(170)), "killed by signal 42 (exit code 170)");
  equal(describeStatus(status(255)), "exit code 255");
});
