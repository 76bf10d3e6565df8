// Faulty server: greets every client with a banner line (§3.1).
// `deno run -A conformance/faulty/banner.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ banner: "*** Welcome to the chat! ***" });
