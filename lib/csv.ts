/**
 * RFC 4180 CSV: comma-separated fields, double-quoted fields with "" for a quote (a quote opens a field only at
 * its start), CRLF or LF line ends. One reader for every CSV rigtel takes in (rack layouts, asset registers,
 * market imports).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The fields of one CSV line, trimmed (an empty line is one empty field). */
export function csvLineFields(line: string): string[] {
  return (parseCsv(line)[0] ?? ['']).map((f) => f.trim());
}
