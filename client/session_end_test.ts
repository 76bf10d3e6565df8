import { deepEqual, equal, match } from "node:assert/strict";
import { describeSessionEnd, type SessionState } from "./session_end.ts";

const base: SessionState = {
  end: "eof",
  linesReceived: 0,
  sentAnything: true,
  elapsedMs: 5,
  inputDone: true,
  interactive: false,
};
const say = (state: Partial<SessionState>) =>
  describeSessionEnd({ ...base, ...state }, "h:1");

Deno.test("a piped session that sent everything and was closed after is quiet, exit 0", () => {
  deepEqual(say({}), { exitCode: 0 });
  deepEqual(say({ end: "quit", interactive: true }), { exitCode: 0 });
});

Deno.test("a server that closes at once, before anything was sent, is a refusal", () => {
  for (const interactive of [true, false]) {
    const outcome = say({ inputDone: false, interactive, sentAnything: false });
    equal(outcome.exitCode, 1);
    match(outcome.message!, /right after accepting it: it may be full/);
  }
  match(
    say({ end: "reset", sentAnything: false }).message!,
    /reset the connection right after/,
  );
  match(
    say({ inputDone: false }).message!,
    /before all input was delivered/,
    "once something was sent, a close is not a refusal",
  );
});

Deno.test("a server that closes before the input was sent says the rest was not delivered", () => {
  const outcome = say({ inputDone: false, linesReceived: 3, elapsedMs: 5000 });
  equal(outcome.exitCode, 1);
  match(
    outcome.message!,
    /before all input was delivered; some of it was lost/,
  );
  match(say({ end: "send-failed" }).message!, /gone before all input was sent/);
});

Deno.test("a reset, a clean close and a network failure read differently", () => {
  const later = { linesReceived: 2, elapsedMs: 5000 };
  match(
    say({ ...later, end: "reset", inputDone: false }).message!,
    /reset the connection before all input was delivered; some of it was lost/,
  );
  equal(
    say({ ...later, end: "reset" }).message,
    "h:1 reset the connection (a server cuts a client that sends a line over its limit so)",
  );
  equal(
    say({ ...later, interactive: true }).message,
    "h:1 closed the connection",
  );
  match(
    say({ ...later, end: "error", error: new Error("boom") }).message!,
    /^connection to h:1 lost: boom$/,
  );
});
