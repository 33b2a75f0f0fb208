import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CsvProblem, type CsvRecord, parseCsv } from '../../../feeds/parseCsv.js';
import { csvField } from '../../../feeds/writeGames.js';

async function parse(chunks: string[], max = 1_000): Promise<(CsvRecord | CsvProblem)[]> {
  const out: (CsvRecord | CsvProblem)[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const batch of parseCsv(source(), max)) out.push(...batch);
  return out;
}

function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(text.slice(from, p));
    from = p;
  }
  parts.push(text.slice(from));
  return parts;
}

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF, embedded line breaks and blank lines', async () => {
    const items = await parse(['a,"b, c","say ""hi"""\r\n\r\n"multi\nline",,x\nlast']);

    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b, c', 'say "hi"'] },
      { kind: 'record', line: 3, lastLine: 4, fields: ['multi\nline', '', 'x'] },
      { kind: 'record', line: 5, fields: ['last'] },
    ]);
  });

  it('skips a line of spaces or tabs as a blank line, and keeps a quoted one', async () => {
    const items = await parse(['a,b\n   \n\t \nc,d\n" "\n  ']);

    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b'] },
      { kind: 'record', line: 4, fields: ['c', 'd'] },
      { kind: 'record', line: 5, fields: [' '] },
    ]);
  });

  it('ends lines at a lone CR as at LF and CRLF, counting each line once', async () => {
    // Arrange: an old Mac spreadsheet's line ends, mixed with the others, a blank line, a
    // quoted field over two lines, and a CRLF cut between two chunks.
    const chunks = ['h1,h2\ra,1\r\rb,"x\ry"\r\nc,2\r', '\nd,3\n"e\r', '\nf",4\rg,5'];

    // Act
    const items = await parse(chunks);

    // Assess
    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['h1', 'h2'] },
      { kind: 'record', line: 2, fields: ['a', '1'] },
      { kind: 'record', line: 4, lastLine: 5, fields: ['b', 'x\ry'] },
      { kind: 'record', line: 6, fields: ['c', '2'] },
      { kind: 'record', line: 7, fields: ['d', '3'] },
      { kind: 'record', line: 8, lastLine: 9, fields: ['e\r\nf', '4'] },
      { kind: 'record', line: 10, fields: ['g', '5'] },
    ]);
  });

  it('skips an oversized record to the next lone CR', async () => {
    const items = await parse(['ok,1\r', `${'x'.repeat(50)},2\rnext,3\r`], 40);

    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['ok', '1'] },
      {
        kind: 'problem',
        line: 2,
        reason: 'record is longer than 40 characters; skipped to the next line',
      },
      { kind: 'record', line: 3, fields: ['next', '3'] },
    ]);
  });

  it('keeps a stray quote inside an unquoted field as text', async () => {
    expect(await parse(['a,b"c,"d"e\n'])).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b"c', 'de'] },
    ]);
  });

  it('gives the same records however the text is cut into chunks', async () => {
    const field = fc.string({
      unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é'),
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (rows, cuts, lineEnd) => {
          const text = rows.map((r) => r.map(csvField).join(',')).join(lineEnd);
          const whole = await parse([text]);
          const pieces = await parse(splitAt(text, cuts));
          expect(pieces).toEqual(whole);
          // Written with csvField, every row reads back as it was (blank rows, empty or spaces
          // only and unquoted, are skipped).
          const expected = rows.filter(
            (r) => !(r.length === 1 && r[0]?.trim() === '' && csvField(r[0]) === r[0]),
          );
          expect(whole.map((r) => (r.kind === 'record' ? r.fields : r))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports an oversized record and resumes at the next line', async () => {
    const items = await parse(
      ['ok,1\n', `"${'x'.repeat(50)}`, `${'x'.repeat(50)}",2\nnext,3\n`],
      40,
    );

    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['ok', '1'] },
      {
        kind: 'problem',
        line: 2,
        reason: 'record is longer than 40 characters; skipped to the next line',
      },
      { kind: 'record', line: 3, fields: ['next', '3'] },
    ]);
  });
});
