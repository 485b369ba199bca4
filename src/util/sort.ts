// Sorting short arrays without Array.prototype.sort's fixed cost. V8's sort (Torque TimSort) allocates
// its state and work arrays on every call, whatever the length: ~0.5-1 KB a call, ~7 MB of a cold
// 1,000-node plan's ~81 MB allocated, spent on arrays of 2-10 strings (keys of an object, a node's
// inputs, the tables of a SQL body). These sort such arrays in place by insertion and hand longer ones
// to Array.prototype.sort; the order is the one it gives (bench/plan.md, session 15, planm).

/** Longest array sorted by insertion (n^2/4 comparisons on average: ~64 at the limit). */
const SHORT = 16;

/** `a.sort()` for strings: UTF-16 code unit order, in place; returns `a`. */
export function sortStrings<T extends string>(a: T[]): T[] {
  const n = a.length;
  if (n > SHORT) return a.sort();
  for (let i = 1; i < n; i++) {
    const x = a[i] as T;
    let j = i - 1;
    while (j >= 0 && (a[j] as T) > x) {
      a[j + 1] = a[j] as T;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}

/** `a.sort(compare)`, in place and stable as it is; returns `a`. */
export function sortBy<T>(a: T[], compare: (x: T, y: T) => number): T[] {
  const n = a.length;
  if (n > SHORT) return a.sort(compare);
  for (let i = 1; i < n; i++) {
    const x = a[i] as T;
    let j = i - 1;
    while (j >= 0 && compare(a[j] as T, x) > 0) {
      a[j + 1] = a[j] as T;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}
