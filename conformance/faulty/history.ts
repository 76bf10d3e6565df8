// Faulty server: replays the last 20 lines to each newcomer (§2.9).
// `deno run -A conformance/faulty/history.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ history: 20 });
