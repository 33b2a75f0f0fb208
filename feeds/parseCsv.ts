/** A CSV record with the line it starts on (1-based). */
export interface CsvRecord {
  readonly kind: 'record';
  readonly line: number;
  readonly fields: string[];
}

/** A stretch of the input that is not a usable record, and why. */
export interface CsvProblem {
  readonly kind: 'problem';
  readonly line: number;
  readonly reason: string;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  AfterQuote,
  /** An oversized record: everything up to the next line break is dropped. */
  Skip,
}

/**
 * Streams RFC 4180 CSV records out of text chunks. Lenient where feeds are sloppy (CRLF or
 * LF, a quote inside an unquoted field is text, text after a closing quote is kept) and
 * safe where they are broken: a record longer than `maxRecordChars` is reported and
 * skipped up to the next line break, so one bad line never hides the good ones after it
 * nor exhausts memory. Blank lines are skipped.
 *
 * @example for await (const r of parseCsv(chunks)) if (r.kind === 'record') console.log(r.line, r.fields);
 */
export async function* parseCsv(
  chunks: AsyncIterable<string>,
  maxRecordChars: number,
): AsyncGenerator<CsvRecord | CsvProblem> {
  let state = State.FieldStart;
  let fields: string[] = [];
  let field = '';
  let quotedRecord = false;
  let line = 1;
  let recordLine = 1;
  let recordChars = 0;
  let out: (CsvRecord | CsvProblem)[] = [];

  const endRecord = () => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '' && !quotedRecord;
    if (!blank) out.push({ kind: 'record', line: recordLine, fields });
    fields = [];
    field = '';
    quotedRecord = false;
    recordChars = 0;
    state = State.FieldStart;
  };

  for await (const chunk of chunks) {
    const length = chunk.length;
    // Start of the literal run being copied into `field`, or -1.
    let run = state === State.Unquoted || state === State.Quoted ? 0 : -1;
    for (let i = 0; i < length; i++) {
      const c = chunk.charCodeAt(i);
      if (state === State.Skip) {
        if (c === LF) {
          line++;
          state = State.FieldStart;
          recordChars = 0;
        }
        continue;
      }
      if (recordChars === 0 && fields.length === 0 && field === '') recordLine = line;
      if (++recordChars > maxRecordChars) {
        out.push({
          kind: 'problem',
          line: recordLine,
          reason: `record is longer than ${maxRecordChars} characters; skipped to the next line`,
        });
        fields = [];
        field = '';
        quotedRecord = false;
        run = -1;
        state = State.Skip;
        if (c === LF) {
          line++;
          state = State.FieldStart;
          recordChars = 0;
        }
        continue;
      }
      switch (state) {
        case State.FieldStart:
          if (c === QUOTE) {
            state = State.Quoted;
            quotedRecord = true;
            run = i + 1;
          } else if (c === COMMA) {
            fields.push('');
          } else if (c === LF) {
            line++;
            endRecord();
          } else if (c !== CR) {
            state = State.Unquoted;
            run = i;
          }
          break;
        case State.Unquoted:
          if (c === COMMA) {
            fields.push(field + chunk.slice(run, i));
            field = '';
            run = -1;
            state = State.FieldStart;
          } else if (c === LF) {
            field += chunk.slice(run, i);
            run = -1;
            line++;
            endRecord();
          } else if (c === CR) {
            field += chunk.slice(run, i);
            run = i + 1;
          }
          break;
        case State.Quoted:
          if (c === QUOTE) {
            field += chunk.slice(run, i);
            run = -1;
            state = State.AfterQuote;
          } else if (c === LF) {
            line++;
          }
          break;
        case State.AfterQuote:
          if (c === QUOTE) {
            // A doubled quote inside a quoted field: one literal quote.
            field += '"';
            state = State.Quoted;
            run = i + 1;
          } else if (c === COMMA) {
            fields.push(field);
            field = '';
            state = State.FieldStart;
          } else if (c === LF) {
            line++;
            endRecord();
          } else if (c !== CR) {
            state = State.Unquoted;
            run = i;
          }
          break;
      }
      if (out.length >= 256) {
        yield* out;
        out = [];
      }
    }
    if (run >= 0) field += chunk.slice(run);
    yield* out;
    out = [];
  }
  if (state === State.Quoted) {
    yield {
      kind: 'problem',
      line: recordLine,
      reason: 'a quoted field is never closed (missing ")',
    };
  } else if (state !== State.Skip && (fields.length > 0 || field !== '' || quotedRecord)) {
    endRecord();
    yield* out;
  }
}
