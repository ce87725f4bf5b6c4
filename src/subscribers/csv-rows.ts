import { parse, type Parser } from 'csv-parse';

export interface CsvRow {
  /** Its first line in the file (1 = the header). */
  line: number;
  cells: string[];
}

const NEWLINES = /\r\n|\n|\r/g;
/** Characters handed to the parser at a time: a few hundred rows, under one write batch. */
const FEED_CHARS = 4 * 1024;

/** Where to cut `text` near `end`, never between the two UTF-16 units of one character (the parser would see two U+FFFD). */
const cutAt = (text: string, end: number): number => {
  if (end >= text.length) return text.length;
  const last = text.charCodeAt(end - 1);
  return last >= 0xd800 && last <= 0xdbff ? end - 1 : end;
};

/** Resolves when the parser can take more, or is gone; leaves no listener behind either way. */
const drained = (parser: Parser): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done).off('close', done);
      resolve();
    };
    parser.on('drain', done).on('close', done);
  });

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
  const parser = parse({ delimiter, record_delimiter: ['\r\n', '\n', '\r'], relax_column_count: true, raw: true });
  // Fed as fast as it reads: a full parser makes the feeder wait (backpressure). The parser turns a
  // whole write into records before it can say it is full, so it gets FEED_CHARS at a time: a 256 KB
  // piece written at once is 20,000 records waiting for the store, kept long enough to be promoted to
  // the old heap, which then grows by hundreds of MB before V8 collects it.
  const feeding = (async () => {
    try {
      for (let piece: string | undefined = head; piece !== undefined && !parser.destroyed; ) {
        for (let at = 0; at < piece.length && !parser.destroyed; ) {
          const end = cutAt(piece, at + FEED_CHARS);
          if (!parser.write(piece.slice(at, end))) await drained(parser);
          at = end;
        }
        const next = await source.next();
        piece = next.done ? undefined : next.value;
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  try {
    // Lines are counted here from each record's raw text (a quoted cell may span several): csv-parse's
    // own count takes a CRLF inside quotes for two lines, and every later row's number would be off.
    let nextLine = 1;
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = nextLine;
      nextLine += raw.match(NEWLINES)?.length ?? 0;
      if (record.some((cell) => cell.trim() !== '')) yield { line, cells: record };
    }
  } finally {
    if (!parser.destroyed) parser.destroy();
    await feeding;
  }
}
