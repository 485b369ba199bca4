// Colours shared by the pages (the stylesheet has the same ones for the graph).
export const STATUS_COLORS: Record<string, string> = { succeeded: '#16a34a', failed: '#dc2626', skipped: '#f59e0b', unchanged: '#94a3b8' };
export const RISK_COLORS: Record<string, string> = { high: '#dc2626', medium: '#f59e0b', low: '#16a34a' };
export const VERSION_COLORS = ['#4f46e5', '#ea580c'];
