/**
 * The line-chat protocol's shared code: the bounded, binary-safe framer,
 * its stream form, the server's output encoding, the default limits and
 * the WebSocket framing of lines.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./mod.ts";
 * const splitter = new LineSplitter({ maxLineBytes: 1024 });
 * splitter.push(new TextEncoder().encode("hi\n"), (line) => console.log(line));
 * ```
 *
 * @module
 */

export * from "./encode_lines.ts";
export * from "./limits.ts";
export * from "./line_splitter.ts";
export * from "./line_stream.ts";
export * from "./websocket_frames.ts";
