// Faulty server: charges a client's pending output by payload only and queues a copy of every line per
// recipient, so tiny lines to clients that do not read cost many times the bound in memory (§4.10).
// `deno run -A conformance/faulty/payload_only.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ payloadOnlyAccounting: true });
