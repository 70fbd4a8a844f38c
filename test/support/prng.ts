/** mulberry32: a tiny seeded PRNG, so generated test inputs are the same on every run. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A whole number in [min, max] from `next`. */
export const intIn = (next: () => number, min: number, max: number): number =>
  min + Math.floor(next() * (max - min + 1));
