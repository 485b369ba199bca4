// The plan's JSON document as `plan --format json` prints it (`JSON.stringify(doc, null, 2)`), each
// action serialised once per process and kept with the action object: the printed document, the
// plan cache's entry (src/cli/plan-cache.ts) and the replay record (its copy of stdout) are made
// of the same texts. An action is plain readonly data whose printed text is a function of its
// fields alone (planToJson's `actionJson`), and a plan made after an edit keeps the last plan's
// action objects outside the edit's downstream (src/planner/plan.ts replannedAfterEdit): their
// texts, read back with the cache entry, are printed again without serialising them (at 10,000
// nodes the document is ~10 MB, serialised three times before, bench/plan.md session 12).

import { actionJson, planHeadJson, type Plan, type PlannedAction } from './plan.js';

/** What separates two actions in the printed document (they sit at depth 2: four spaces). */
export const ACTION_SEPARATOR = ',\n    ';

const printed = new WeakMap<PlannedAction, string>();

/** The text of `a` as it stands in the printed document's `actions` (its lines indented for depth 2). */
export function actionText(a: PlannedAction): string {
  let t = printed.get(a);
  if (t === undefined) {
    t = JSON.stringify(actionJson(a), null, 2).replaceAll('\n', '\n    ');
    printed.set(a, t);
  }
  return t;
}

/**
 * Records that `a` prints as `text` (read back from where actionText's result was kept: the caller
 * vouches that it was made from an action equal to `a`).
 */
export function knownActionText(a: PlannedAction, text: string): void {
  printed.set(a, text);
}

const joined = new WeakMap<readonly PlannedAction[], { readonly text: string; readonly lengths: readonly number[] }>();

/**
 * The texts of `actions` (actionText) joined as they stand in the printed document's array, and each
 * one's length: made once per actions array (a plan's actions are readonly), since the printed
 * document and the plan cache's entry (src/cli/plan-cache.ts) hold the same join (10 MB at 10,000
 * nodes, joined twice before).
 */
export function actionsText(actions: readonly PlannedAction[]): { readonly text: string; readonly lengths: readonly number[] } {
  let j = joined.get(actions);
  if (j === undefined) {
    j = (actions.length > 1 && !actions.some((a) => printed.has(a)) ? printedTogether(actions) : undefined) ?? joinedTexts(actions);
    joined.set(actions, j);
  }
  return j;
}

/** The texts of `actions` (actionText) joined as they stand in a printed array, and each one's length. */
export function joinedTexts(actions: readonly PlannedAction[]): { readonly text: string; readonly lengths: readonly number[] } {
  const texts = actions.map(actionText);
  return { text: texts.join(ACTION_SEPARATOR), lengths: texts.map((t) => t.length) };
}

/** How `JSON.stringify([[…]], null, 2)` wraps the inner array's elements, which it writes at depth 2. */
const TOGETHER_HEAD = '[\n  [\n    ';
const TOGETHER_TAIL = '\n  ]\n]';
/** An element's last line at depth 2: no line inside it is indented only this far (its fields are at depth 3), and no string holds a raw newline. */
const ELEMENT_END = '\n    }';

/**
 * The texts of actions none of which was printed yet (a plan made whole), serialised in one
 * JSON.stringify and cut into each one's text: the same bytes as actionText's, at about half the CPU
 * of a call per action and its re-indenting in a cold process (1,000 actions ~9 -> ~4 ms). Each
 * text is kept as actionText's. Undefined when the text does not cut as expected.
 */
function printedTogether(actions: readonly PlannedAction[]): { readonly text: string; readonly lengths: readonly number[] } | undefined {
  const all = JSON.stringify([actions.map(actionJson)], null, 2);
  if (!all.startsWith(TOGETHER_HEAD) || !all.endsWith(TOGETHER_TAIL)) return undefined;
  const text = all.slice(TOGETHER_HEAD.length, all.length - TOGETHER_TAIL.length);
  const lengths: number[] = [];
  const texts: string[] = [];
  let at = 0;
  for (let i = 0; i < actions.length; i++) {
    const end = text.indexOf(ELEMENT_END, at);
    if (text[at] !== '{' || end < 0) return undefined;
    const next = end + ELEMENT_END.length;
    if (i < actions.length - 1 ? !text.startsWith(ACTION_SEPARATOR, next) : next !== text.length) return undefined;
    texts.push(text.slice(at, next));
    lengths.push(next - at);
    at = next + ACTION_SEPARATOR.length;
  }
  for (let i = 0; i < actions.length; i++) printed.set(actions[i], texts[i]);
  return { text, lengths };
}

/**
 * The printed document of `plan` (`JSON.stringify({...planToJson(plan), ...extra}, null, 2)`,
 * byte for byte), its `spec` shown as `spec` and `extra`'s fields after the actions.
 */
export function planJsonText(plan: Plan, spec: string, extra: Readonly<Record<string, unknown>> = {}): string {
  const doc = JSON.stringify({ ...planHeadJson(plan), spec, actions: [], ...extra }, null, 2);
  if (plan.actions.length === 0) return doc;
  // Depth 1 (two spaces, after a newline): no string can hold a raw newline, so this is the key.
  const at = doc.indexOf(EMPTY_ACTIONS);
  return `${doc.slice(0, at)}\n  "actions": [\n    ${actionsText(plan.actions).text}\n  ]${doc.slice(at + EMPTY_ACTIONS.length)}`;
}

const EMPTY_ACTIONS = '\n  "actions": []';
