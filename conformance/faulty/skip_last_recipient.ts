// Faulty server: the recipient loop stops one short and skips the last client (§2.1).
// `deno run -A conformance/faulty/skip_last_recipient.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ skipLastRecipient: true });
