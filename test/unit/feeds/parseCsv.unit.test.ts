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
        fc.boolean(),
        async (rows, cuts, crlf) => {
          const text = rows.map((r) => r.map(csvField).join(',')).join(crlf ? '\r\n' : '\n');
          const whole = await parse([text]);
          const pieces = await parse(splitAt(text, cuts));
          expect(pieces).toEqual(whole);
          // Written with csvField, every row reads back as it was (blank rows are skipped).
          const expected = rows.filter((r) => !(r.length === 1 && r[0] === ''));
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
