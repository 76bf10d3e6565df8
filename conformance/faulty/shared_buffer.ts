// Faulty server: keeps one partial-line buffer for all clients, merging concurrent slow senders (§2.7).
// `deno run -A conformance/faulty/shared_buffer.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ sharedPartialBuffer: true });
