// CSV records read as Go's encoding/csv reads them (comma-separated, no
// comment character, strict quotes, any number of fields per record), because
// Kubernetes' --token-auth-file is read with it and the same file must mean
// the same thing here: blank lines are skipped, `""` in a quoted field is a
// quote, a quoted field may span lines, spaces around fields are kept, CRLF
// is LF, and a stray quote is an error naming its line and column.

export interface CsvRecord {
  fields: string[];
  /** The 1-based line the record starts on. */
  line: number;
}

export class CsvParseError extends Error {
  override name = 'CsvParseError';
  constructor(
    /** Where the record starts. */
    readonly startLine: number,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(startLine !== line ? `record on line ${startLine}; parse error on line ${line}, column ${column}: ${reason}` : `parse error on line ${line}, column ${column}: ${reason}`);
  }
}

const bareQuote = 'bare " in non-quoted-field';
const badQuote = 'extraneous or missing " in quoted-field';

/** The text's lines, each ending in "\n" (a last line without one gets one; CRLF is LF; a CR before the end of the text goes). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    let line: string;
    if (nl < 0) {
      line = text.slice(start);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      line += '\n';
      start = text.length;
    } else {
      line = text.slice(start, nl + 1);
      start = nl + 1;
    }
    if (line.endsWith('\r\n')) line = `${line.slice(0, -2)}\n`;
    lines.push(line);
  }
  return lines;
}

/** Every record of the text, in order. Throws CsvParseError at the first malformed one. */
export function readCsvRecords(text: string): CsvRecord[] {
  const lines = splitLines(text);
  const records: CsvRecord[] = [];
  let next = 0;
  while (next < lines.length) {
    const recordLine = next + 1;
    let line = lines[next++]!;
    if (line === '\n') continue;
    const fields: string[] = [];
    let lineNo = recordLine;
    let col = 1;
    for (;;) {
      if (!line.startsWith('"')) {
        const comma = line.indexOf(',');
        const field = comma >= 0 ? line.slice(0, comma) : line.slice(0, -1);
        const quote = field.indexOf('"');
        if (quote >= 0) throw new CsvParseError(recordLine, lineNo, col + quote, bareQuote);
        fields.push(field);
        if (comma < 0) break;
        line = line.slice(comma + 1);
        col += comma + 1;
        continue;
      }
      // A quoted field: runs to the quote that is followed by a comma or the end of a line.
      line = line.slice(1);
      col += 1;
      let value = '';
      let fieldDone: 'comma' | 'end';
      for (;;) {
        const quote = line.indexOf('"');
        if (quote >= 0) {
          value += line.slice(0, quote);
          line = line.slice(quote + 1);
          col += quote + 1;
          if (line.startsWith('"')) {
            value += '"';
            line = line.slice(1);
            col += 1;
          } else if (line.startsWith(',')) {
            line = line.slice(1);
            col += 1;
            fieldDone = 'comma';
            break;
          } else if (line === '\n') {
            fieldDone = 'end';
            break;
          } else {
            throw new CsvParseError(recordLine, lineNo, col - 1, badQuote);
          }
        } else if (next < lines.length) {
          // The field goes on on the next line.
          value += line;
          line = lines[next++]!;
          lineNo += 1;
          col = 1;
        } else {
          throw new CsvParseError(recordLine, lineNo, col + line.length, badQuote);
        }
      }
      fields.push(value);
      if (fieldDone === 'end') break;
    }
    records.push({ fields, line: recordLine });
  }
  return records;
}
