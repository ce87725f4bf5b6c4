import { csvCell } from '../../src/shared/csv-cell';

describe('a CSV cell a spreadsheet opens', () => {
  it('defuses a leading = + - @, tab and carriage return, so none is read as a formula', () => {
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${lead}HYPERLINK("x")`)).toBe(`"'${lead}HYPERLINK(""x"")"`);
    }
  });

  it('leaves other cells as they are, quoted', () => {
    expect(csvCell('Ségou')).toBe('"Ségou"');
    expect(csvCell(' =1')).toBe('" =1"');
    expect(csvCell(12)).toBe('"12"');
    expect(csvCell(null)).toBe('""');
  });
});
