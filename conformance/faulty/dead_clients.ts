// Faulty server: never removes departed clients; the write to a dead one throws and aborts the rest of the fan-out (§2.10).
// `deno run -A conformance/faulty/dead_clients.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ keepDeadClients: true });
