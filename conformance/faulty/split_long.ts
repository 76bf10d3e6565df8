// Faulty server: relays an over-long line in L-byte pieces (§4.3).
// `deno run -A conformance/faulty/split_long.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ overLimit: "split" });
