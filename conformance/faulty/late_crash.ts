// Faulty server: crashes shortly after disconnecting a client for an over-long line (§5.2):
// the case sees only the disconnect it expected, so the crash must not be blamed on the next case.
// `deno run -A conformance/faulty/late_crash.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ crashAfterDisconnectMs: 20 });
