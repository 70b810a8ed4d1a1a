// RFC 4180 CSV for the account import: quoted fields with "" escapes, CRLF or LF line
// ends, a header row naming the columns. Pure, with limits on rows and field size.

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export interface CsvLimits {
  maxRows: number;
  maxFieldLength: number;
}

/** The rows of `text` (the header row included), each a list of fields. */
export function parseCsv(text: string, limits: CsvLimits): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let i = 0;
  const endField = (): void => {
    if (field.length > limits.maxFieldLength) throw new CsvError(`a field is longer than ${limits.maxFieldLength} characters`, line);
    row.push(field);
    field = '';
  };
  const endRow = (): void => {
    endField();
    if (!(row.length === 1 && row[0] === '')) {
      if (rows.length >= limits.maxRows + 1) throw new CsvError(`more than ${limits.maxRows} rows`, line);
      rows.push(row);
    }
    row = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else field += c;
    if (field.length > limits.maxFieldLength) throw new CsvError(`a field is longer than ${limits.maxFieldLength} characters`, line);
    i++;
  }
  if (quoted) throw new CsvError('a quoted field is not closed', line);
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `500M`, `2G`, `1024`, `` or `0` (unlimited) → bytes; undefined when malformed. */
export function parseQuota(input: string): number | undefined {
  if (input.trim() === '') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(input.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
