/**
 * Why a client session ended, in words for the user and an exit code: the
 * server may end it cleanly, refuse the client at once (full, or too many
 * from its address), cut it (a line over the limit resets the
 * connection), or the network may fail. A line the user sent must never
 * vanish without a word.
 *
 * @module
 */

/** How the connection ended, as the client saw it. */
export type ConnectionEnd =
  | "quit" // the user quit
  | "eof" // the server closed its side (FIN)
  | "reset" // the server reset it (RST), e.g. closing with input unread
  | "send-failed" // a write failed: the server was already gone
  | "error"; // any other I/O error

/** What the client knew when the session ended. */
export interface SessionState {
  /** How it ended. */
  end: ConnectionEnd;
  /** The error, for `error`. */
  error?: unknown;
  /** Lines received from the server. */
  linesReceived: number;
  /** Whether any byte was sent to the server. */
  sentAnything: boolean;
  /** Milliseconds from connecting to the end. */
  elapsedMs: number;
  /** Whether all input was sent and the client half-closed (piped mode). */
  inputDone: boolean;
  /** Whether the session is interactive (a terminal). */
  interactive: boolean;
}

/** What the client says and how it exits. */
export interface SessionOutcome {
  /** One line for stderr, or `undefined` for a session that went as asked. */
  message?: string;
  /** The process's exit code. */
  exitCode: number;
}

/**
 * A close this soon after connecting, before anything was sent or
 * received, is taken for a refusal: a server closes a connection it will
 * not serve at once.
 */
export const REFUSED_WITHIN_MS = 1000;

/**
 * Decides what to tell the user about how a session ended.
 *
 * @example
 * ```ts
 * import { describeSessionEnd } from "./session_end.ts";
 * const outcome = describeSessionEnd({
 *   end: "eof",
 *   linesReceived: 0,
 *   sentAnything: false,
 *   elapsedMs: 3,
 *   inputDone: false,
 *   interactive: false,
 * }, "127.0.0.1:7687");
 * console.log(outcome.exitCode, outcome.message);
 * // 1 "127.0.0.1:7687 closed the connection right after accepting it: it may be full, or refuse this address"
 * ```
 */
export function describeSessionEnd(
  state: SessionState,
  where: string,
): SessionOutcome {
  const { end, linesReceived, elapsedMs, inputDone, interactive } = state;
  if (end === "quit") return { exitCode: 0 };
  const refused = !state.sentAnything && linesReceived === 0 &&
    elapsedMs < REFUSED_WITHIN_MS;
  if (end === "eof") {
    if (!interactive && inputDone) return { exitCode: 0 };
    if (refused) {
      return fail(
        `${where} closed the connection right after accepting it: it may be full, or refuse this address`,
      );
    }
    return fail(
      interactive
        ? `${where} closed the connection`
        : `${where} closed the connection before all input was delivered; some of it was lost (a server cuts a client that sends a line over its limit so)`,
    );
  }
  if (end === "reset") {
    return fail(
      refused
        ? `${where} reset the connection right after accepting it: it may be full, or refuse this address`
        : `${where} reset the connection${
          interactive || inputDone
            ? ""
            : " before all input was delivered; some of it was lost"
        } (a server cuts a client that sends a line over its limit so)`,
    );
  }
  if (end === "send-failed") {
    return fail(
      `${where} was gone before all input was sent; the rest was not delivered`,
    );
  }
  const reason = state.error instanceof Error
    ? state.error.message
    : String(state.error);
  return fail(`connection to ${where} lost: ${reason}`);
}

function fail(message: string): SessionOutcome {
  return { message, exitCode: 1 };
}
