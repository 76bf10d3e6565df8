import { equal, ok } from "node:assert/strict";
import { TraceRecorder } from "./trace.ts";

Deno.test("the trace keeps sends and receives escaped, with byte counts", () => {
  const trace = new TraceRecorder();
  trace.record("A", "send", new Uint8Array([0x61, 0x0d, 0x0a]));
  trace.record("B", "recv", new Uint8Array([0x61]), { terminator: "crlf" });
  const [send, recv] = trace.events();
  equal(send.data, "a\\r\\n");
  equal(send.bytes, 3);
  equal(recv.terminator, "crlf");
  ok(recv.t >= send.t);
});

Deno.test("the trace is bounded: it keeps the start and the end and says what it left out", () => {
  const trace = new TraceRecorder({ maxEvents: 10 });
  for (let i = 0; i < 100; i++) trace.note(`event ${i}`);
  const events = trace.events();
  equal(trace.omitted, 90);
  equal(events.length, 11);
  equal(events[0].data, "event 0");
  equal(events[4].data, "event 4");
  ok(events[5].data?.includes("90 events left out"));
  equal(events[10].data, "event 99");
});

Deno.test("the trace counts timeouts even when their events are left out", () => {
  const trace = new TraceRecorder({ maxEvents: 2 });
  for (let i = 0; i < 5; i++) trace.record("A", "timeout", "no line");
  equal(trace.timeouts, 5);
});
