import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { csvRows, type CsvRow } from '../../src/subscribers/csv-rows';

/**
 * The worker reads an import file of a million rows in pieces of 256 KB: the parser must stay only a few
 * rows ahead of its reader (the rows wait for the store), whatever a piece holds, and lose nothing where
 * it cuts a piece.
 */
const rowsOf = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `7${String(from + i).padStart(7, '0')},fr,b`).join('\n');

it('parses a few hundred rows ahead of its reader, not a whole piece', async () => {
  // One piece of 160,000 rows (2 MB): parsed at once, its records alone are tens of MB on the heap.
  const piece = `phone,language,consent_source\n${rowsOf(160_000)}\n`;
  const rows = csvRows([piece]);
  const before = process.memoryUsage().heapUsed;
  expect((await rows.next()).value).toEqual({ line: 1, cells: ['phone', 'language', 'consent_source'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const grown = process.memoryUsage().heapUsed - before;
  let count = 0;
  for await (const row of rows) if (row.cells.length === 3) count += 1;
  expect(count).toBe(160_000);
  expect(grown).toBeLessThan(16 * 1_048_576);
});

it('waits for its reader piece after piece without piling up listeners', () => {
  // In a process of its own: a MaxListenersExceededWarning goes to the real process, not to jest's.
  const script = `
    const { csvRows } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'subscribers', 'csv-rows'))});
    const rowsOf = ${rowsOf.toString()};
    // 30 pieces of 20 KB, each more than the parser takes before it asks the feeder to wait.
    const pieces = ['phone,language,consent_source\\n', ...Array.from({ length: 30 }, (_, i) => rowsOf(1500, i * 1500) + '\\n')];
    (async () => {
      let count = 0;
      for await (const row of csvRows(pieces)) if (++count % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      console.log(count);
    })();`;
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
  expect(run.stdout.trim()).toBe(String(1 + 30 * 1_500));
  expect(run.stderr).not.toContain('MaxListenersExceededWarning');
});

it('keeps every row, line number and character where it cuts a piece: CRLF, quoted line breaks, emoji', async () => {
  // Rows of varying length so that every kind of boundary falls on a cut somewhere.
  const lines: string[] = ['phone,region,note'];
  const expected: CsvRow[] = [{ line: 1, cells: ['phone', 'region', 'note'] }];
  let line = 2;
  for (let i = 0; i < 3_000; i += 1) {
    const region = `r\u{1F600}${'é'.repeat(i % 7)}`;
    if (i % 3 === 0) {
      lines.push(`7${i},"${region}","two\r\nlines ${i}"`);
      expected.push({ line, cells: [`7${i}`, region, `two\r\nlines ${i}`] });
      line += 2;
    } else {
      lines.push(`7${i},${region},${'x'.repeat(i % 11)}`);
      expected.push({ line, cells: [`7${i}`, region, 'x'.repeat(i % 11)] });
      line += 1;
    }
  }
  const text = `${lines.join('\r\n')}\r\n`;
  const rows: CsvRow[] = [];
  for await (const row of csvRows([text])) rows.push(row);
  expect(rows.length).toBe(expected.length);
  expect(rows).toEqual(expected);
  expect(rows.some((row) => row.cells.some((cell) => cell.includes('\uFFFD')))).toBe(false);
});
