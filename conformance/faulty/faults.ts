/**
 * The faulty servers of the self-test, by name: each turns on one fault of
 * `server.ts` (or, for `correct`, none), breaking one clause the way real
 * servers do. `main.ts --fault NAME` runs one.
 *
 * @module
 */

import type { Faults } from "./server.ts";

/**
 * A named faulty server: what it does (wrong) and the faults that make it.
 *
 * @example
 * ```ts
 * import type { FaultyServer } from "./faults.ts";
 * const echo: FaultyServer = { description: "relays each line to its sender too (§2.2)", faults: { echo: true } };
 * console.log(echo.description);
 * ```
 */
export interface FaultyServer {
  /** What it does wrong, and the clause that breaks (or that it is correct). */
  description: string;
  /** The faults it runs with. */
  faults: Faults;
}

/**
 * Every faulty server by name (`correct` has no fault and passes the whole
 * suite).
 *
 * @example
 * ```ts
 * import { FAULTY_SERVERS } from "./faults.ts";
 * console.log(FAULTY_SERVERS.echo.faults); // { echo: true }
 * ```
 */
export const FAULTY_SERVERS: Readonly<Record<string, FaultyServer>> = {
  banner: {
    description: "greets every client with a banner line (§3.1).",
    faults: { banner: "*** Welcome to the chat! ***" },
  },
  banner_then_register: {
    description:
      "greets each client with a banner and adds it to the room only 150 ms later, so lines relayed right after it connected never reach it (§3.1, §2.1).",
    faults: { banner: "*** Welcome! ***", registerDelayMs: 150 },
  },
  blocking_writes: {
    description:
      "awaits each recipient's write in turn with no buffer bound, so a client that stops reading stalls everyone (§3.2, §4.6).",
    faults: { blockingWrites: true },
  },
  chunk_framing: {
    description:
      "frames each read on its own, so a read's unterminated tail is relayed as a line (§1.4).",
    faults: { chunkFraming: true },
  },
  correct: {
    description:
      "no fault at all: the base server, which passes the whole suite.",
    faults: {},
  },
  crlf_only: {
    description:
      "frames only lines ended by CR LF; an LF alone is content, so nothing sent with LF ever comes back (§1.2).",
    faults: { crlfOnly: true },
  },
  crash_on_reset: {
    description:
      "has no error handling around reads: a client's reset kills the server (§5.2).",
    faults: { crashOnReset: true },
  },
  dead_clients: {
    description:
      "never removes departed clients; the write to a dead one throws and aborts the rest of the fan-out (§2.10).",
    faults: { keepDeadClients: true },
  },
  dies_on_first_connect: {
    description:
      "exits as soon as a client connects (as `ncat -l --chat` does when getpeername fails), every time it is started (§5.2).",
    faults: { dieOnConnect: true },
  },
  drop_empty: {
    description: "drops empty lines (§2.8).",
    faults: { dropEmpty: true },
  },
  drop_slow: {
    description:
      "silently drops lines for a client whose queue is full instead of disconnecting it (§2.3, §4.7).",
    faults: { dropForSlow: true },
  },
  echo: {
    description: "relays each line to its sender too (breaks §2.2).",
    faults: { echo: true },
  },
  echo_and_prefix: {
    description:
      "relays each line to everyone, its sender included, prefixed with the sender's address (`ADDR: line`), like many tutorial servers (§2.2, §2.4).",
    faults: { echo: true, prefixSender: true },
  },
  glue_partial: {
    description:
      "relays a leaving client's partial line without a terminator, so it is glued onto the next line each client gets, as `ncat --broker` does (§1.6).",
    faults: { gluePartialAtClose: true },
  },
  history: {
    description: "replays the last 20 lines to each newcomer (§2.9).",
    faults: { history: 20 },
  },
  keep_half_closed: {
    description:
      "keeps a half-closed client in the room and keeps writing to it (§5.1, §2.10).",
    faults: { keepHalfClosed: true },
  },
  late_crash: {
    description:
      "crashes shortly after disconnecting a client for an over-long line (§5.2): the case sees only the disconnect it expected, so the crash must not be blamed on the next case.",
    faults: { crashAfterDisconnectMs: 20 },
  },
  leak_sockets: {
    description:
      "never closes the socket of a client that left (fd leak, §5.2).",
    faults: { leakSockets: true },
  },
  killed_by_sigterm: {
    description:
      "has no SIGTERM handler: the signal's default action kills it and the kernel closes its clients, with nothing flushed (§5.4).",
    faults: { noShutdownHandler: true },
  },
  lf_output: {
    description: "ends the lines it sends with LF alone (§2.5).",
    faults: { lfOutput: true },
  },
  lone_cr: {
    description:
      "treats a lone CR as a line terminator, like Nim's recvLine (§1.1).",
    faults: { loneCrTerminates: true },
  },
  nagle: {
    description:
      "leaves Nagle's algorithm on and writes each line separately, so small lines wait for delayed ACKs (§2.11).",
    faults: { nagle: true },
  },
  no_flood_control: {
    description:
      "no flood control: it reads a flooding client as fast as it sends and cuts any client 64 KiB behind as a slow consumer, so one flooder gets the readers who keep up cut (§4.9, §3.2).",
    faults: { noFloodControl: true, maxPendingBytes: 64 * 1024 },
  },
  partial_at_close: {
    description: "relays the unterminated tail of a client that leaves (§1.6).",
    faults: { relayPartialAtClose: true },
  },
  per_delivery_delay: {
    description:
      "waits 200 ms before each delivery, one recipient after the other, so one line to N clients takes N × 200 ms (§2.11).",
    faults: { perDeliveryDelayMs: 200 },
  },
  payload_only: {
    description:
      "charges a client's pending output by payload only and queues a copy of every line per recipient, so tiny lines to clients that do not read cost many times the bound in memory (§4.10).",
    faults: { payloadOnlyAccounting: true },
  },
  raw_chunks: {
    description:
      "does not frame lines: relays each read as it came, prefixed with the sender's address, so a line a read cuts gets a prefix in its middle (§1.4, §2.4).",
    faults: { rawChunks: true },
  },
  reencode_utf8: {
    description:
      "decodes lines as UTF-8 and encodes them again, turning invalid bytes into U+FFFD (§1.3).",
    faults: { reencode: true },
  },
  shared_buffer: {
    description:
      "keeps one partial-line buffer for all clients, merging concurrent slow senders (§2.7).",
    faults: { sharedPartialBuffer: true },
  },
  slow_accept: {
    description:
      "accepts one connection every 40 ms: 100 clients connecting at once wait up to 4 s to be accepted (slow, not lossy).",
    faults: { acceptDelayMs: 40 },
  },
  slow_relay: {
    description:
      "waits a random 0–30 ms before relaying each line, a sender's lines one after the other (§2.11).",
    faults: { relayDelayMs: [0, 30] },
  },
  splices_overlong: {
    description:
      "relays an over-long line whole, writing its L-byte pieces as they come with the sender's prefix spliced in before each (§4.4).",
    faults: { spliceOverLong: true },
  },
  skip_first_recipient: {
    description:
      "the recipient loop starts at 1 and skips the first client (§2.1).",
    faults: { skipFirstRecipient: true },
  },
  skip_last_recipient: {
    description:
      "the recipient loop stops one short and skips the last client (§2.1).",
    faults: { skipLastRecipient: true },
  },
  snapshot_recipients: {
    description:
      "fixes a line's recipients when its first bytes arrive, not at its LF (§2.1).",
    faults: { snapshotRecipients: true },
  },
  split_long: {
    description: "relays an over-long line in L-byte pieces (§4.3).",
    faults: { overLimit: "split" },
  },
  trim: {
    description: "trims whitespace around each line (§1.3).",
    faults: { trim: true },
  },
  truncate_long: {
    description:
      "relays the first L bytes of an over-long line as if it were the whole line (§4.2).",
    faults: { overLimit: "truncate" },
  },
  unbounded: {
    description:
      "has no line limit and no output bound: it buffers whatever it is sent (§4.5, §4.6).",
    faults: { overLimit: "unbounded", unboundedQueue: true },
  },
};

/**
 * Every faulty server's name, sorted.
 *
 * @example
 * ```ts
 * import { FAULT_NAMES } from "./faults.ts";
 * console.log(FAULT_NAMES.includes("echo")); // true
 * ```
 */
export const FAULT_NAMES: readonly string[] = Object.keys(FAULTY_SERVERS)
  .sort();
