import { execFileSync } from 'node:child_process';
import { csvCell, csvLine } from './csv';

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['CN=www.example.com, O=Example', '"CN=www.example.com, O=Example"'],
  ])('%j -> %s', (input, expected) => expect(csvCell(input)).toBe(expected));

  it('writes numbers, booleans, dates and empty cells as they are', () => {
    expect(csvLine([-5, true, new Date('2026-01-02T03:04:05Z'), null, undefined])).toBe('-5,true,2026-01-02T03:04:05.000Z,,\r\n');
  });

  it('reads back with a real CSV parser (python csv) to the same fields', () => {
    const fields = ['a,b', 'say "hi"', 'two\r\nlines', 'x'];
    const parsed = execFileSync('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'], { input: csvLine(fields) + csvLine(['1', '2']), encoding: 'utf8' });
    expect(JSON.parse(parsed)).toEqual([fields, ['1', '2']]);
  });
});
