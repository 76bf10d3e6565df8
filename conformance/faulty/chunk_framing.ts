// Faulty server: frames each read on its own, so a read's unterminated tail is relayed as a line (§1.4).
// `deno run -A conformance/faulty/chunk_framing.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ chunkFraming: true });
