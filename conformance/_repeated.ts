/**
 * A barrier line that is sent again, with a new variant each time, until
 * it is seen (see `sync.ts`).
 *
 * @module
 */

import { endsWith } from "./bytes.ts";

/** A barrier line and the repeats sent of it so far. */
export class Repeated {
  readonly variants: Uint8Array[];
  readonly #make: (k: number) => Uint8Array;

  constructor(make: (k: number) => Uint8Array) {
    this.#make = make;
    this.variants = [make(1)];
  }

  /** The next repeat's bytes (and remembers them). */
  next(): Uint8Array {
    const bytes = this.#make(this.variants.length + 1);
    this.variants.push(bytes);
    return bytes;
  }

  /** Which variant (1 = the first) `line` is, or 0. */
  match(line: Uint8Array): number {
    for (let i = 0; i < this.variants.length; i++) {
      if (endsWith(line, this.variants[i])) return i + 1;
    }
    return 0;
  }
}
