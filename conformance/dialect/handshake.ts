/**
 * Putting a dialect on a freshly connected client: its
 * {@linkcode DialectView}, then the dialect's handshake (read up to a
 * prompt, drop a greeting, send a name line).
 *
 * @module
 */

import type { Peer } from "../peer.ts";
import type { CompiledDialect } from "./dialect.ts";
import { DialectView } from "./dialect_view.ts";

/**
 * The name line `{name}` stands for: the client's name in the case and
 * the attempt's tag, letters and digits only (unique in the run).
 *
 * @example
 * ```ts
 * import { handshakeName } from "./handshake.ts";
 * console.log(handshakeName("A", "c12")); // "Ac12"
 * ```
 */
export function handshakeName(name: string, tag: string): string {
  return `${name}${tag}`.replace(/[^A-Za-z0-9]/g, "");
}

/**
 * Gives `peer` the dialect and performs its handshake, each read waiting
 * at most `timeoutMs`. Returns null when done, else what went wrong.
 *
 * @example
 * ```ts ignore
 * const problem = await applyDialect(peer, dialect, { tag: "c1", timeoutMs: 2000 });
 * if (problem) console.log(problem);
 * ```
 */
export async function applyDialect(
  peer: Peer,
  dialect: CompiledDialect,
  options: { tag: string; timeoutMs: number },
): Promise<string | null> {
  const name = handshakeName(peer.name, options.tag);
  const selves = [peer.client.localAddr];
  const h = dialect.declared.handshake;
  if (h?.send !== undefined) selves.push(name);
  const view = new DialectView(dialect, selves);
  const read = async (what: string) => {
    const outcome = await peer.read(options.timeoutMs);
    if (outcome.kind === "line") return outcome.line.bytes;
    throw new Error(
      `${peer.name}: the dialect's handshake waited for ${what}: ${
        outcome.kind === "timeout"
          ? `nothing within ${options.timeoutMs} ms`
          : outcome.kind === "eof"
          ? "the server closed the connection"
          : outcome.kind
      }`,
    );
  };
  try {
    if (dialect.prompt) {
      const latin = (b: Uint8Array) =>
        String.fromCharCode(...b.subarray(0, 4096));
      while (!dialect.prompt.test(latin(await read("its prompt"))));
    }
    for (let i = 0; i < (h?.skipLines ?? 0); i++) {
      await read(`greeting line ${i + 1} of ${h!.skipLines}`);
    }
    if (h?.send !== undefined) {
      peer.dialect = view;
      await peer.send(h.send.replaceAll("{name}", name));
    }
  } catch (error) {
    return (error as Error).message;
  }
  peer.dialect = view;
  return null;
}
