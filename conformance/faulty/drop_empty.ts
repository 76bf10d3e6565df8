// Faulty server: drops empty lines (§2.8).
// `deno run -A conformance/faulty/drop_empty.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ dropEmpty: true });
