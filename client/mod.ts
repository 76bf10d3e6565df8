/**
 * The line-chat client library.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * const client = await connect("127.0.0.1:7687");
 * await client.send("hello");
 * for await (const line of client.lines()) console.log(line.text);
 * ```
 *
 * @module
 */

export * from "./chat_client.ts";
export * from "./websocket_conn.ts";
