// Invalid inputs too big or too binary to check in: the corpus test writes them to a temporary
// folder as `<name>.asg` and loads them like any other case; their goldens sit with the others.

export const generatedCases: Record<string, () => Buffer> = {
  /** Random-looking bytes with NULs and invalid UTF-8 (deterministic). */
  'binary-garbage': () => {
    const b = Buffer.alloc(4096);
    let x = 0x2545f491;
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  },
  /** Starts like a spec, then a NUL byte in the middle of a valid UTF-8 file. */
  'nul-byte': () => Buffer.from('pipeline p {\n  warehouse = "./w"\u0000\n}\n'),
  /** A 10 MiB spec: refused by size before it is read into memory. */
  'ten-megabytes': () => {
    const line = '  // padding padding padding padding padding padding padding padding padding padding\n';
    return Buffer.from(`pipeline big {\n${line.repeat(Math.ceil((10 * 2 ** 20) / line.length))}}\n`);
  },
  /** 10,000 nested lists: a clean "nesting too deep", no stack overflow. */
  'deep-nesting-lists': () => Buffer.from(`pipeline p {\n  profile x {\n    deep = ${'['.repeat(10_000)}1${']'.repeat(10_000)}\n  }\n}\n`),
  /** 2,000 nested maps, never closed. */
  'deep-nesting-maps': () => Buffer.from(`pipeline p {\n  profile x {\n    deep = ${'{ a = '.repeat(2_000)}\n`),
};
