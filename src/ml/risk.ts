// From a probability to the API's answer: prediction (probability > threshold) and risk level
// (high at or above `high`, medium at or above `medium`, else low). One definition, used by the
// online API and by batch scoring (whose SQL mirrors it in riskLevelSql).

export interface RiskLevels {
  readonly high: number;
  readonly medium: number;
}

export const DEFAULT_RISK_LEVELS: RiskLevels = { high: 0.7, medium: 0.4 };

export function riskLevel(p: number, r: RiskLevels): 'high' | 'medium' | 'low' {
  return p >= r.high ? 'high' : p >= r.medium ? 'medium' : 'low';
}

export function riskLevelSql(col: string, r: RiskLevels): string {
  return `CASE WHEN ${col} >= ${r.high} THEN 'high' WHEN ${col} >= ${r.medium} THEN 'medium' ELSE 'low' END`;
}
