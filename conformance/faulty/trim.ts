// Faulty server: trims whitespace around each line (§1.3).
// `deno run -A conformance/faulty/trim.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ trim: true });
