// Faulty server: has no line limit and no output bound: it buffers whatever it is sent (§4.5, §4.6).
// `deno run -A conformance/faulty/unbounded.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ overLimit: "unbounded", unboundedQueue: true });
