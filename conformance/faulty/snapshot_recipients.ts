// Faulty server: fixes a line's recipients when its first bytes arrive, not at its LF (§2.1).
// `deno run -A conformance/faulty/snapshot_recipients.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ snapshotRecipients: true });
