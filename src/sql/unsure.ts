/** Thrown where the fast paths (fast-analyze.ts, fast-lineage.ts, fast-types.ts) are not sure: the caller asks the real tool. */
export class Unsure extends Error {}

/** One instance, thrown again and again: its stack is never shown, so none is taken per throw. */
const UNSURE = new Unsure('the fast SQL path is not sure');

export const unsure = (): never => {
  throw UNSURE;
};
