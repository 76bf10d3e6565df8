// Faulty server: relays each line to its sender too (breaks §2.2).
// `deno run -A conformance/faulty/echo.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ echo: true });
