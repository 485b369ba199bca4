// The training algorithms and every hyperparameter each takes: name, accepted values, default and
// meaning. One table read by the checker (validate/plan errors at file:line:col), the trainer
// (src/ml/params.ts resolves defaults from it), the compile target (the scikit-learn estimator and
// its keyword arguments) and the language reference (docs/language.md). Names and defaults are
// scikit-learn's: random_forest is RandomForestClassifier, gradient_boosting is
// HistGradientBoostingClassifier.

export type AlgorithmName = 'random_forest' | 'gradient_boosting';
export const ALGORITHM_NAMES: readonly AlgorithmName[] = ['random_forest', 'gradient_boosting'];

export type ParamValue = number | string | boolean;

/**
 * Feature dtypes every training algorithm takes: numbers, booleans (as 0/1) and strings, which
 * are categories (ordinal codes with an unknown bucket, src/ml/categorical.ts). Not timestamps.
 */
const TRAINABLE_DTYPES: ReadonlySet<string> = new Set(['int32', 'int64', 'float32', 'float64', 'bool', 'string']);
export const isTrainableDType = (dtype: string): boolean => TRAINABLE_DTYPES.has(dtype);

/** One form a value may take; a parameter accepts any of its forms. Bounds are inclusive unless marked. */
export type ParamForm =
  | { readonly type: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly type: 'number'; readonly min?: number; readonly max?: number; readonly minExclusive?: boolean; readonly maxExclusive?: boolean }
  | { readonly type: 'boolean' }
  /** A bare word such as `balanced`, `sqrt` or `none` (`none` stands for scikit-learn's None). */
  | { readonly type: 'word'; readonly values: readonly string[] };

export interface HyperParam {
  readonly name: string;
  readonly forms: readonly ParamForm[];
  /** As written in a spec; `undefined` for random_state, whose default is the split's seed. */
  readonly default?: ParamValue;
  readonly description: string;
}

const int = (min?: number, max?: number): ParamForm => ({ type: 'integer', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const none: ParamForm = { type: 'word', values: ['none'] };
const classWeight: HyperParam = {
  name: 'class_weight',
  forms: [{ type: 'word', values: ['balanced', 'none'] }],
  default: 'none',
  description: '`balanced` weights each class by n / (2 · its count), so a rare label counts as much as the common one',
};
const randomState: HyperParam = { name: 'random_state', forms: [int()], description: 'seed of the randomness in training; defaults to `split.seed`' };

export const HYPERPARAMS: Readonly<Record<AlgorithmName, readonly HyperParam[]>> = {
  random_forest: [
    { name: 'n_estimators', forms: [int(1)], default: 100, description: 'number of trees' },
    { name: 'max_depth', forms: [int(1), none], default: 'none', description: 'maximum tree depth; `none` grows until leaves are pure' },
    { name: 'min_samples_split', forms: [int(2)], default: 2, description: 'fewest rows a node needs to be split' },
    { name: 'min_samples_leaf', forms: [int(1)], default: 1, description: 'fewest rows in a leaf' },
    {
      name: 'max_features',
      forms: [{ type: 'word', values: ['sqrt', 'log2'] }, int(1), { type: 'number', min: 0, max: 1, minExclusive: true }],
      default: 'sqrt',
      description: 'features tried per split: `sqrt` or `log2` of their count, an integer count, or a fraction in (0, 1]',
    },
    { name: 'bootstrap', forms: [{ type: 'boolean' }], default: true, description: 'each tree trains on a bootstrap sample of the rows' },
    classWeight,
    randomState,
  ],
  gradient_boosting: [
    { name: 'learning_rate', forms: [{ type: 'number', min: 0, minExclusive: true }], default: 0.1, description: 'shrinkage applied to each tree' },
    { name: 'max_iter', forms: [int(1)], default: 100, description: 'most boosting rounds (one tree each); early stopping may end sooner' },
    { name: 'max_leaf_nodes', forms: [int(2), none], default: 31, description: 'most leaves per tree; trees grow best split first' },
    { name: 'max_depth', forms: [int(1), none], default: 'none', description: 'maximum tree depth; `none`: limited by max_leaf_nodes only' },
    { name: 'min_samples_leaf', forms: [int(1)], default: 20, description: 'fewest rows in a leaf' },
    { name: 'l2_regularization', forms: [{ type: 'number', min: 0 }], default: 0, description: 'L2 penalty on leaf values' },
    {
      name: 'early_stopping',
      forms: [{ type: 'word', values: ['auto'] }, { type: 'boolean' }],
      default: 'auto',
      description: 'stop when the loss on a held-out validation part stops improving; `auto`: on when there are more than 10,000 training rows',
    },
    {
      name: 'validation_fraction',
      forms: [{ type: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true }],
      default: 0.1,
      description: 'share of the training rows held out for early stopping',
    },
    { name: 'n_iter_no_change', forms: [int(1)], default: 10, description: 'rounds without improvement before early stopping' },
    { name: 'tol', forms: [{ type: 'number', min: 0 }], default: 1e-7, description: 'smallest improvement of the validation loss that counts' },
    classWeight,
    randomState,
  ],
};

/** Names that users bring from elsewhere, with what to write instead. */
export const RENAMED_PARAMS: Readonly<Record<AlgorithmName, Readonly<Record<string, string>>>> = {
  random_forest: {},
  gradient_boosting: {
    n_estimators: 'gradient_boosting counts rounds with `max_iter` (scikit-learn HistGradientBoostingClassifier)',
    subsample: 'gradient_boosting has no row subsampling; use `l2_regularization`, `min_samples_leaf` or early stopping to regularise',
  },
};

/** The scikit-learn estimator a compiled training job uses for each algorithm. */
export const SKLEARN_ESTIMATOR: Readonly<Record<AlgorithmName, string>> = {
  random_forest: 'RandomForestClassifier',
  gradient_boosting: 'HistGradientBoostingClassifier',
};

export type ParamProblem =
  | { readonly kind: 'unknown'; readonly message: string; readonly hint?: string }
  | { readonly kind: 'type' | 'range'; readonly message: string };

function valueType(v: ParamValue): 'integer' | 'number' | 'boolean' | 'word' {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'word';
  return Number.isInteger(v) ? 'integer' : 'number';
}

function fits(form: ParamForm, v: ParamValue): boolean {
  switch (form.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'word':
      return typeof v === 'string' && form.values.includes(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && (form.min === undefined || v >= form.min) && (form.max === undefined || v <= form.max);
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      const lo = form.min === undefined || (form.minExclusive ? v > form.min : v >= form.min);
      const hi = form.max === undefined || (form.maxExclusive ? v < form.max : v <= form.max);
      return lo && hi;
    }
  }
}

/** Whether a value of this JS type could be right (so a failure is about its range, not its type). */
function typeMatches(form: ParamForm, v: ParamValue): boolean {
  const t = valueType(v);
  if (form.type === 'number') return t === 'number' || t === 'integer';
  return form.type === t;
}

function describeForm(f: ParamForm): string {
  switch (f.type) {
    case 'boolean':
      return '`true` or `false`';
    case 'word':
      return f.values.map((w) => `\`${w}\``).join(' or ');
    case 'integer':
      return f.min !== undefined && f.max !== undefined
        ? `an integer from ${f.min} to ${f.max}`
        : f.min !== undefined
          ? `an integer >= ${f.min}`
          : 'an integer';
    case 'number': {
      const lo = f.min === undefined ? '' : `${f.minExclusive ? '>' : '>='} ${f.min}`;
      const hi = f.max === undefined ? '' : `${f.maxExclusive ? '<' : '<='} ${f.max}`;
      return lo && hi ? `a number ${lo} and ${hi}` : lo || hi ? `a number ${lo || hi}` : 'a number';
    }
  }
}

/** "an integer >= 1 or `none`": what a parameter accepts, in words (messages and docs). */
export function describeParam(p: HyperParam): string {
  return p.forms.map(describeForm).join(' or ');
}

export function hyperParam(algorithm: AlgorithmName, name: string): HyperParam | undefined {
  return HYPERPARAMS[algorithm].find((p) => p.name === name);
}

/** What is wrong with one `name = value` of an algorithm, or undefined when it is right. */
export function checkParam(algorithm: AlgorithmName, name: string, value: ParamValue): ParamProblem | undefined {
  const p = hyperParam(algorithm, name);
  if (!p) {
    const renamed = RENAMED_PARAMS[algorithm][name];
    return { kind: 'unknown', message: `unknown ${algorithm} parameter \`${name}\``, ...(renamed ? { hint: renamed } : {}) };
  }
  if (p.forms.some((f) => fits(f, value))) return undefined;
  const shown = typeof value === 'string' ? `\`${value}\`` : String(value);
  const kind = p.forms.some((f) => typeMatches(f, value)) ? 'range' : 'type';
  return { kind, message: `${algorithm} parameter \`${name}\` must be ${describeParam(p)}, got ${shown}` };
}

/** The keyword arguments of the scikit-learn estimator: `none` becomes None (null), everything else as written. */
export function sklearnParams(params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue | null> {
  const out: Record<string, ParamValue | null> = {};
  for (const [k, v] of Object.entries(params)) out[k] = v === 'none' ? null : v;
  return out;
}
