/**
 * Every conformance case, in the order a run takes them.
 *
 * @module
 */

import type { CaseDefinition } from "../case.ts";
import { DISCONNECT_CASES } from "./disconnect.ts";
import { SHUTDOWN_CASES } from "./shutdown.ts";
import { FLOOD_CASES } from "./flood.ts";
import { FRAMING_CASES } from "./framing.ts";
import { LIMITS_CASES } from "./limits.ts";
import { RELAY_CASES } from "./relay.ts";
import { SLOW_CONSUMER_CASES } from "./slow_consumer.ts";
import { STREAM_CASES } from "./stream.ts";

/** All cases, in run order. */
export const ALL_CASES: readonly CaseDefinition[] = [
  ...RELAY_CASES,
  ...FRAMING_CASES,
  ...STREAM_CASES,
  ...LIMITS_CASES,
  ...DISCONNECT_CASES,
  ...SLOW_CONSUMER_CASES,
  ...FLOOD_CASES,
  // Last: it stops the server.
  ...SHUTDOWN_CASES,
];
