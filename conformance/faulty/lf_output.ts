// Faulty server: ends the lines it sends with LF alone (§2.5).
// `deno run -A conformance/faulty/lf_output.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ lfOutput: true });
