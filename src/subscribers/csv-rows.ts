import { parse } from 'csv-parse';

export interface CsvRow {
  /** Its first line in the file (1 = the header). */
  line: number;
  cells: string[];
}

const NEWLINES = /\r\n|\n|\r/g;

/**
 * The rows of a CSV file read piece by piece (csv-parse, RFC 4180: quoted fields, "" inside quotes,
 * CRLF, LF or CR), so a file of a million rows is never whole in memory. The separator is "," or,
 * when the header has ";" and no "," (spreadsheets set to French), ";". Blank rows are left out.
 */
export async function* csvRows(pieces: AsyncIterable<string> | Iterable<string>): AsyncGenerator<CsvRow> {
  const source = (async function* () {
    yield* pieces;
  })();
  // The separator is read from the header: gather pieces until its end is in sight.
  let head = '';
  while (!/[\r\n]/.test(head)) {
    const next = await source.next();
    if (next.done) break;
    head += next.value;
  }
  head = head.replace(/^\uFEFF/, '');
  const firstLine = head.slice(0, head.search(/\r|\n|$/));
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const parser = parse({ delimiter, record_delimiter: ['\r\n', '\n', '\r'], relax_column_count: true, info: true, raw: true });
  // Fed as fast as it reads: a full parser makes the feeder wait (backpressure).
  const feeding = (async () => {
    try {
      for (let piece: string | undefined = head; piece !== undefined && !parser.destroyed; ) {
        if (piece && !parser.write(piece)) await new Promise((resolve) => parser.once('drain', resolve).once('close', resolve));
        const next = await source.next();
        piece = next.done ? undefined : next.value;
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      if (!record.some((cell) => cell.trim() !== '')) continue;
      // info.lines is the record's last line; a quoted cell may have spanned several.
      const inner = raw.replace(/(\r\n|\n|\r)$/, '').match(NEWLINES)?.length ?? 0;
      yield { line: info.lines - inner, cells: record };
    }
  } finally {
    if (!parser.destroyed) parser.destroy();
    await feeding;
  }
}
