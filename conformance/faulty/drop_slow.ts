// Faulty server: silently drops lines for a client whose queue is full instead of disconnecting it (§2.3, §4.7).
// `deno run -A conformance/faulty/drop_slow.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ dropForSlow: true });
