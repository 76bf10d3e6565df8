// Faulty server: no fault at all: the base server, which passes the whole suite.
// `deno run -A conformance/faulty/correct.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({});
