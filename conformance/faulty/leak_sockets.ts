// Faulty server: never closes the socket of a client that left (fd leak, §5.2).
// `deno run -A conformance/faulty/leak_sockets.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ leakSockets: true });
