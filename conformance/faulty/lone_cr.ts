// Faulty server: treats a lone CR as a line terminator, like Nim's recvLine (§1.1).
// `deno run -A conformance/faulty/lone_cr.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ loneCrTerminates: true });
