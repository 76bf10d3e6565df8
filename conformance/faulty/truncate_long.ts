// Faulty server: relays the first L bytes of an over-long line as if it were the whole line (§4.2).
// `deno run -A conformance/faulty/truncate_long.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ overLimit: "truncate" });
