// Faulty server: leaves Nagle's algorithm on and writes each line separately, so small lines wait for delayed ACKs (§2.11).
// `deno run -A conformance/faulty/nagle.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ nagle: true });
