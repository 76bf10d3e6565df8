// Reproducible randomness for randomized tests: a failure names its round,
// and the same seed replays it.

/**
 * A xorshift32 generator from `seed`: `random(n)` gives an integer in
 * [0, n).
 */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed | 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}
