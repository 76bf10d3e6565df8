/**
 * Command templates: how a server under test is named on a command line.
 * Every tool runs them the same way, with `sh -c`, so `X=1 cmd`, quotes
 * and `> /dev/null` mean what they mean in a shell.
 *
 * @module
 */

/**
 * Quotes `word` for `sh` when it needs it.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./shell.ts";
 * console.log(shellQuote("a b")); // "'a b'"
 * console.log(shellQuote("ncat")); // "ncat"
 * ```
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Joins words into one `sh` command line, quoting where needed.
 *
 * @example
 * ```ts
 * import { shellJoin } from "./shell.ts";
 * console.log(shellJoin(["echo", "it's"])); // "echo 'it'\"'\"'s'"
 * ```
 */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

/**
 * Fills a template's ports: `{port}` is `port`, and `{port+N}` is `port + N`
 * (for servers that listen on several consecutive ports).
 *
 * @example
 * ```ts
 * import { fillPorts } from "./shell.ts";
 * console.log(fillPorts("node a.js {port} --redis :{port+2}", 9000));
 * // "node a.js 9000 --redis :9002"
 * ```
 */
export function fillPorts(template: string, port: number): string {
  return template.replace(
    /\{port(?:\+(\d+))?\}/g,
    (_, offset) => String(port + Number(offset ?? 0)),
  );
}

/**
 * How many consecutive ports a template uses: 1 + its largest `{port+N}`.
 *
 * @example
 * ```ts
 * import { portsUsed } from "./shell.ts";
 * console.log(portsUsed("x {port} {port+2}")); // 3
 * ```
 */
export function portsUsed(template: string): number {
  let most = 0;
  for (const match of template.matchAll(/\{port\+(\d+)\}/g)) {
    most = Math.max(most, Number(match[1]));
  }
  return most + 1;
}
