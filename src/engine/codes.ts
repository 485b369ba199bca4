// The engine's diagnostic codes: its block of the one catalogue (src/diagnostics/catalogue.ts).
import { Codes } from '../diagnostics/catalogue.js';

export const EngineCodes = {
  FeatureColumnMissing: Codes.FeatureColumnMissing,
  FeatureDtype: Codes.FeatureDtype,
  FeatureKeyMissing: Codes.FeatureKeyMissing,
  LabelColumnMissing: Codes.LabelColumnMissing,
  FeatureTypeUnsupported: Codes.FeatureTypeUnsupported,
  SqlTargetUnsupported: Codes.SqlTargetUnsupported,
  SqlBind: Codes.SqlBind,
  SqlUnknownInput: Codes.SqlUnknownInput,
} as const;
