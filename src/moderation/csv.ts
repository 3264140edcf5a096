/**
 * RFC 4180 CSV for the history export: every field quoted (bodies hold commas, quotes and newlines),
 * CRLF line ends. Fields that a spreadsheet would run as a formula (=, +, -, @ first) get a leading
 * apostrophe (OWASP "CSV injection"), since exports are opened by people, not only by programs.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replaceAll('"', '""')}"`;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
