// Bounded concurrency for I/O fan-out (object uploads and downloads, file footers).

/** `f` over `items`, at most `limit` at a time; results in the items' order; the first failure rejects. */
export async function inParallel<T, R>(items: readonly T[], limit: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
