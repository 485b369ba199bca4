// The engine's diagnostic codes. They are listed in src/diagnostics/catalogue.ts too (the one
// catalogue, in the engine's block); kept here as well so the engine does not depend on the
// catalogue's in-progress edits.
import type { Severity } from '../diagnostics/diagnostic.js';

const e = (code: string, severity: Severity, title: string) => ({ code, severity, title }) as const;

export const EngineCodes = {
  FeatureColumnMissing: e('ASG2101', 'error', 'feature names a column its table does not have'),
  FeatureDtype: e('ASG2102', 'error', 'feature dtype does not match the column type'),
  FeatureKeyMissing: e('ASG2103', 'error', 'feature view join key or timestamp missing'),
  LabelColumnMissing: e('ASG2104', 'error', 'label column missing'),
  SqlTargetUnsupported: e('ASG3101', 'error', 'SQL the target engine cannot run'),
  SqlBind: e('ASG3102', 'error', 'SQL does not bind against its inputs'),
  SqlUnknownInput: e('ASG3103', 'error', 'SQL input without a known schema'),
} as const;
