// Faulty server: decodes lines as UTF-8 and encodes them again, turning invalid bytes into U+FFFD (§1.3).
// `deno run -A conformance/faulty/reencode_utf8.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ reencode: true });
