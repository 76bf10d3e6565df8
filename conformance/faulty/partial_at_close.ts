// Faulty server: relays the unterminated tail of a client that leaves (§1.6).
// `deno run -A conformance/faulty/partial_at_close.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ relayPartialAtClose: true });
