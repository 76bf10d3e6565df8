// Faulty server: has no error handling around reads: a client's reset kills the server (§5.2).
// `deno run -A conformance/faulty/crash_on_reset.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ crashOnReset: true });
