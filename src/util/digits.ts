// Numbers for people: integers with their thousands grouped by commas, as `toLocaleString('en-US')`
// writes them, without it: its first call loads ICU's number formatting, ~10-20 ms of CPU that
// every `asgard apply` paid to print its row counts (bench/ingest.md, session 14).

/** `n` as `n.toLocaleString('en-US')` writes it (`1234567` → `1,234,567`); done by hand for safe integers. */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
