// Faulty server: no flood control: it reads a flooding client as fast as it sends and cuts any
// client 64 KiB behind as a slow consumer, so one flooder gets the readers who keep up cut (§4.9, §3.2).
// `deno run -A conformance/faulty/no_flood_control.ts --port N`; see _base.ts.
import { runFaultyServer } from "./_base.ts";

runFaultyServer({ noFloodControl: true, maxPendingBytes: 64 * 1024 });
