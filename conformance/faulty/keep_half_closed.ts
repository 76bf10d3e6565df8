// Faulty server: keeps a half-closed client in the room and keeps writing to it (§5.1, §2.10).
// `deno run -A conformance/faulty/keep_half_closed.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ keepHalfClosed: true });
