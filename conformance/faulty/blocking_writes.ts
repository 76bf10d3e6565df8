// Faulty server: awaits each recipient's write in turn with no buffer bound, so a client that stops reading stalls everyone (§3.2, §4.6).
// `deno run -A conformance/faulty/blocking_writes.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ blockingWrites: true });
