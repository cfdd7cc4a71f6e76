// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote, CR or LF (quotes
// doubled). Cells starting with = + - @ (or tab/CR) are prefixed with ' so spreadsheet programs
// do not run them as formulas (OWASP CSV injection); numbers and dates are written as they are.

export type Cell = string | number | boolean | Date | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = value instanceof Date ? value.toISOString() : value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
