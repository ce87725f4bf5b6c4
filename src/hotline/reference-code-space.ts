/**
 * The space of reference codes: six characters read out over a phone, from 30 symbols without
 * 0/O, 1/I/L or U, so 30^6 = 729,000,000 codes. A number n in [0, SPACE) maps to one code through a
 * keyed permutation of the space (a Feistel network with cycle-walking): distinct numbers give
 * distinct codes by construction, and consecutive numbers give codes that do not look alike, so a
 * code does not tell its neighbours. Pure: no I/O.
 */
export const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 6;
export const SPACE = ALPHABET.length ** LENGTH;
/** Numbers below it come from the shared sequence; numbers above it are drawn at random when the sequence is out of reach. */
export const SEQUENCE_LIMIT = Math.floor(SPACE / 2);
export const CODE_PATTERN = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

// 2^30 is the smallest power of two above 729,000,000: two halves of 15 bits.
const HALF_BITS = 15;
const HALF_MASK = (1 << HALF_BITS) - 1;
const ROUNDS = 8;

export interface CodePermutation {
  codeOf(n: number): string;
  /** The number a code was made from (undefined: not a code of this space). */
  numberOf(code: string): number | undefined;
}

function round(half: number, key: number): number {
  // A 32-bit integer mixer (from "hash prospector"): every output bit depends on every input bit.
  let x = (half ^ key) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) & HALF_MASK;
}

/** `keyHex`: at least 64 hex characters of secret (a keyed hash), so codes cannot be predicted from one another. */
export function createCodePermutation(keyHex: string): CodePermutation {
  if (!/^[0-9a-f]{64,}$/i.test(keyHex)) throw new Error('the reference code permutation needs 64 hex characters of key');
  const keys = Array.from({ length: ROUNDS }, (_, i) => Number.parseInt(keyHex.slice(i * 8, i * 8 + 8), 16) >>> 0);
  const encrypt = (x: number): number => {
    let left = x >>> HALF_BITS;
    let right = x & HALF_MASK;
    for (let i = 0; i < ROUNDS; i += 1) {
      const mixed = left ^ round(right, keys[i] as number);
      left = right;
      right = mixed;
    }
    return left * (1 << HALF_BITS) + right;
  };
  const decrypt = (x: number): number => {
    let left = x >>> HALF_BITS;
    let right = x & HALF_MASK;
    for (let i = ROUNDS - 1; i >= 0; i -= 1) {
      const mixed = right ^ round(left, keys[i] as number);
      right = left;
      left = mixed;
    }
    return left * (1 << HALF_BITS) + right;
  };
  // Cycle-walking: apply the permutation of [0, 2^30) until the value falls inside the space again;
  // that restricts a bijection of the larger domain to a bijection of [0, SPACE).
  const walk = (n: number, step: (x: number) => number): number => {
    let x = step(n);
    while (x >= SPACE) x = step(x);
    return x;
  };
  return {
    codeOf(n) {
      if (!Number.isInteger(n) || n < 0 || n >= SPACE) throw new RangeError(`reference number out of the code space: ${n}`);
      let x = walk(n, encrypt);
      let code = '';
      for (let i = 0; i < LENGTH; i += 1) {
        code = ALPHABET.charAt(x % ALPHABET.length) + code;
        x = Math.floor(x / ALPHABET.length);
      }
      return code;
    },
    numberOf(code) {
      if (!CODE_PATTERN.test(code)) return undefined;
      let x = 0;
      for (const char of code) x = x * ALPHABET.length + ALPHABET.indexOf(char);
      return walk(x, decrypt);
    },
  };
}
