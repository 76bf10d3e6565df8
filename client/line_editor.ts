/**
 * The interactive client's input line: keys in, actions out. Pure logic, so
 * the terminal handling around it stays thin and this part is testable.
 *
 * @module
 */

/** What a key press asks the terminal client to do. */
export type EditorAction =
  | { kind: "redraw" }
  | { kind: "send"; line: string }
  | { kind: "quit" };

const segmenter = new Intl.Segmenter();

/**
 * An editable input line fed raw terminal bytes.
 *
 * Printable text (UTF-8, possibly split across reads) is inserted at the
 * end; Backspace removes the last character; Ctrl-U clears the line; Enter
 * (CR or LF) sends it; Ctrl-C, and Ctrl-D on an empty line, quit. Escape
 * sequences (arrow keys and the like) are ignored.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { LineEditor } from "./line_editor.ts";
 *
 * const editor = new LineEditor();
 * const actions = editor.feed(new TextEncoder().encode("hi\r"));
 * deepEqual(actions[0], { kind: "send", line: "hi" });
 * ```
 */
export class LineEditor {
  /** The text typed so far. */
  text = "";
  readonly #decoder = new TextDecoder();
  #escape: "none" | "esc" | "csi" = "none";

  /** Handles the bytes of one read from the terminal. */
  feed(bytes: Uint8Array): EditorAction[] {
    const actions: EditorAction[] = [];
    let printable: number[] = [];
    const flushPrintable = () => {
      if (printable.length === 0) return;
      this.text += this.#decoder.decode(Uint8Array.from(printable), {
        stream: true,
      });
      printable = [];
    };
    for (const byte of bytes) {
      if (this.#escape !== "none") {
        this.#skipEscape(byte);
        continue;
      }
      if (byte >= 0x20 && byte !== 0x7f) {
        printable.push(byte);
        continue;
      }
      flushPrintable();
      switch (byte) {
        case 0x0d:
        case 0x0a:
          actions.push({ kind: "send", line: this.text });
          this.text = "";
          break;
        case 0x7f:
        case 0x08: {
          const characters = [...segmenter.segment(this.text)];
          this.text = characters.slice(0, -1).map((s) => s.segment).join("");
          break;
        }
        case 0x15: // Ctrl-U
          this.text = "";
          break;
        case 0x03: // Ctrl-C
          actions.push({ kind: "quit" });
          return actions;
        case 0x04: // Ctrl-D
          if (this.text === "") {
            actions.push({ kind: "quit" });
            return actions;
          }
          break;
        case 0x1b:
          this.#escape = "esc";
          break;
        case 0x09:
          printable.push(byte);
          break;
      }
    }
    flushPrintable();
    if (actions.length === 0 || actions.at(-1)!.kind !== "redraw") {
      actions.push({ kind: "redraw" });
    }
    return actions;
  }

  #skipEscape(byte: number): void {
    if (this.#escape === "esc") {
      // ESC [ starts a CSI sequence; ESC O a single-shift one; else done.
      this.#escape = byte === 0x5b || byte === 0x4f ? "csi" : "none";
    } else if (byte >= 0x40 && byte <= 0x7e) {
      this.#escape = "none";
    }
  }
}
