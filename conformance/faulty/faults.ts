/**
 * The faulty servers of the self-test, by name: each turns on one fault of
 * `server.ts` (or, for `correct`, none), breaking one clause the way real
 * servers do. `main.ts --fault NAME` runs one.
 *
 * @module
 */

/**
 * The faults a faulty server can have; each breaks one clause.
 *
 * @example
 * ```ts
 * import type { Faults } from "./faults.ts";
 * const faults: Faults = { echo: true, overLimit: "split" };
 * console.log(faults.overLimit);
 * ```
 */
export interface Faults {
  /** §2.2: relays each line to its sender too. */
  echo?: boolean;
  /** §2.1: the recipient loop starts at index 1, skipping the first client. */
  skipFirstRecipient?: boolean;
  /** §2.1: the recipient loop stops one short, skipping the last client. */
  skipLastRecipient?: boolean;
  /** §1.4: splits each read at LF with no carry-over: a read's tail is a line. */
  chunkFraming?: boolean;
  /** §1.3: trims whitespace (space, tab, CR, VT, FF) around each line. */
  trim?: boolean;
  /** §1.3: decodes each line as UTF-8 and encodes it again (U+FFFD). */
  reencode?: boolean;
  /** §1.1: a lone CR ends a line (and an LF right after it is swallowed). */
  loneCrTerminates?: boolean;
  /** §1.6: relays the unterminated tail when a client leaves. */
  relayPartialAtClose?: boolean;
  /**
   * §4.2–§4.5: what happens to a line longer than L: `disconnect` (the
   * correct default), `truncate` (relay its first L bytes), `split` (relay
   * it in L-byte pieces) or `unbounded` (no limit; buffered whole).
   */
  overLimit?: "disconnect" | "truncate" | "split" | "unbounded";
  /** §2.5: ends relayed lines with LF alone. */
  lfOutput?: boolean;
  /** §3.1: greets each client with a line. */
  banner?: string;
  /** §3.2/§4.6: fan-out awaits each recipient's write in turn, unbounded. */
  blockingWrites?: boolean;
  /**
   * §2.10: departed clients stay in the room; a write to one throws and
   * aborts the rest of that fan-out.
   */
  keepDeadClients?: boolean;
  /** §2.8: drops empty lines. */
  dropEmpty?: boolean;
  /** §2.7: one partial-line buffer shared by all clients. */
  sharedPartialBuffer?: boolean;
  /** §2.9: replays the last lines to each newcomer. */
  history?: number;
  /** §2.11: no TCP_NODELAY, and one write per line. */
  nagle?: boolean;
  /** §2.3/§4.7: drops lines for a client whose queue is full, silently. */
  dropForSlow?: boolean;
  /** §4.6: no bound on a client's queue (never a slow consumer). */
  unboundedQueue?: boolean;
  /** §5.2: an unhandled read error on reset kills the server. */
  crashOnReset?: boolean;
  /**
   * §5.2: closing a client for an over-long line leaves a timer that kills
   * the server this many ms later (a crash the case sees only as its client
   * being disconnected, which it expected).
   */
  crashAfterDisconnectMs?: number;
  /** §5.2: never closes a departed client's socket (fd leak). */
  leakSockets?: boolean;
  /** §5.1/§2.10: a half-closed client stays in the room and keeps receiving. */
  keepHalfClosed?: boolean;
  /** §2.1: recipients are fixed when a line starts, not when it ends. */
  snapshotRecipients?: boolean;
  /**
   * §4.9: no flood control: a client is read from as fast as it sends,
   * however far behind its lines leave the others.
   */
  noFloodControl?: boolean;
  /**
   * The output held for one client before it is disconnected as a slow
   * consumer (§4.6).
   *
   * @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * §4.10: a client's pending output is charged by payload only, and every
   * line is queued for every recipient as an entry (a copy) of its own, so
   * tiny lines to a client that does not read cost many times their bytes.
   */
  payloadOnlyAccounting?: boolean;
  /**
   * §2.11: waits a random time in this range (ms) before relaying each
   * line; a sender's lines wait one after the other.
   */
  relayDelayMs?: [number, number];
  /**
   * §2.11: waits this long (ms) before each delivery, one recipient after
   * the other, and reads the sender's next line only after the last: one
   * line to N clients takes N times it.
   */
  perDeliveryDelayMs?: number;
  /** §1.2: only CR LF ends a line; an LF alone is content. */
  crlfOnly?: boolean;
  /** §5.2: exits as soon as a client connects. */
  dieOnConnect?: boolean;
  /**
   * §2.1: a client joins the room (receives lines) only this long (ms)
   * after it was accepted and sent the banner; its own lines are read and
   * relayed from the start.
   */
  registerDelayMs?: number;
  /** Waits this long (ms) before each accept: connections queue up. */
  acceptDelayMs?: number;
  /** §2.4: prefixes every relayed line with the sender's address and ": ". */
  prefixSender?: boolean;
  /**
   * §4.2–§4.4: an over-long line is relayed as one line with the sender's
   * prefix spliced in before every L bytes (its pieces are written as they
   * come, without terminators), whole.
   */
  spliceOverLong?: boolean;
  /**
   * §1.4/§2.4: no framing: each read is relayed as it came, raw, prefixed
   * with the sender's address (a line cut by a read gets a prefix in its
   * middle).
   */
  rawChunks?: boolean;
  /**
   * §1.6: relays a leaving client's partial line without a terminator, so
   * it is glued onto the next line each client receives.
   */
  gluePartialAtClose?: boolean;
  /**
   * §5.4: no SIGTERM handler: the signal's default action kills it, and
   * the kernel closes its connections (nothing it holds is flushed).
   */
  noShutdownHandler?: boolean;
  /**
   * §2.1, a sequence fault: when two clients leave within 1 ms of each
   * other, the next line is relayed to nobody.
   */
  dropAfterQuickLeaves?: boolean;
  /**
   * §2.1, a sequence fault: from its Nth reconnect on (the N+1th
   * connection from its source address), a client is never relayed to.
   */
  muteAfterReconnects?: number;
}

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
  drop_after_quick_leaves: {
    description:
      "drops the next line when two clients leave within 1 ms of each other (§2.1; only a sequence finds it).",
    faults: { dropAfterQuickLeaves: true },
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
  mute_after_reconnects: {
    description:
      "stops relaying to a client from its 3rd reconnect on, counted by source address (§2.1; only a sequence finds it).",
    faults: { muteAfterReconnects: 3 },
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
