// Airbyte schedules take Quartz cron expressions (seconds first, `?` for the unused day field,
// weekdays 1–7 from Sunday); specs write the five-field Unix form.

export function unixToQuartz(expr: string): string {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) return expr; // already Quartz (6–7 fields) or checked upstream
  const [min, hour, dom, month, dow] = f;
  if (dow === '*' || dow === '?') return `0 ${min} ${hour} ${dom} ${month} ?`;
  const quartzDow = dow.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
  return `0 ${min} ${hour} ${dom === '*' ? '?' : dom} ${month} ${quartzDow}`;
}
