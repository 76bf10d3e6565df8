/**
 * Escaping text for HTML, XML and SVG: the one escaper every report uses.
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes `text` for element content and for attribute values in either
 * quote (HTML, XML, SVG alike): `& < > " '` become entities.
 *
 * @example
 * ```ts
 * import { escapeMarkup } from "./markup.ts";
 * console.log(escapeMarkup(`<a title="it's">&</a>`));
 * // "&lt;a title=&quot;it&#39;s&quot;&gt;&amp;&lt;/a&gt;"
 * ```
 */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
