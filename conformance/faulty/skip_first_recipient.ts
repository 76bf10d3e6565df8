// Faulty server: the recipient loop starts at 1 and skips the first client (§2.1).
// `deno run -A conformance/faulty/skip_first_recipient.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ skipFirstRecipient: true });
