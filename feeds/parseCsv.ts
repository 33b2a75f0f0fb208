/** A CSV record with the line it starts on (1-based). */
export interface CsvRecord {
  readonly kind: 'record';
  readonly line: number;
  /** The line it ends on, when a quoted field carried it past the line it starts on. */
  readonly lastLine?: number;
  readonly fields: string[];
}

/** A stretch of the input that is not a usable record, and why. */
export interface CsvProblem {
  readonly kind: 'problem';
  readonly line: number;
  /** The last line the problem took in, when it is more than one. */
  readonly lastLine?: number;
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
 * Streams RFC 4180 CSV records out of text chunks, in batches (one per chunk). Lenient where
 * feeds are sloppy (lines ending in CRLF, LF or a lone CR as old Mac spreadsheets write them,
 * a quote inside an unquoted field is text, text after a closing quote is kept) and safe
 * where they are broken: a record longer than `maxRecordChars` is reported and skipped up to
 * the next line break, so one bad line never hides the good ones after it nor exhausts
 * memory. Blank lines (empty, or only spaces and tabs) are skipped.
 *
 * @example for await (const batch of parseCsv(chunks, 1 << 20)) for (const r of batch) use(r);
 */
export async function* parseCsv(
  chunks: AsyncIterable<string>,
  maxRecordChars: number,
): AsyncGenerator<(CsvRecord | CsvProblem)[]> {
  let state = State.FieldStart;
  let fields: string[] = [];
  let field = '';
  let quotedRecord = false;
  let line = 1;
  let recordLine = 1;
  let recordChars = 0;
  let out: (CsvRecord | CsvProblem)[] = [];
  // The last character read was a carriage return: a line feed right after it ends no line.
  let afterCr = false;

  const reset = () => {
    fields = [];
    field = '';
    quotedRecord = false;
    recordChars = 0;
    recordLine = line;
    state = State.FieldStart;
  };
  /** Ends the record on `lastLine` (a line break was just read: the line before it). */
  const endRecord = (lastLine = line - 1) => {
    fields.push(field);
    // A line of nothing but spaces or tabs is blank too (a spreadsheet's stray last line).
    const blank = fields.length === 1 && fields[0]?.trim() === '' && !quotedRecord;
    if (!blank) {
      out.push(
        lastLine > recordLine
          ? { kind: 'record', line: recordLine, lastLine, fields }
          : { kind: 'record', line: recordLine, fields },
      );
    }
    reset();
  };

  let endsWithLineBreak = false;
  for await (const chunk of chunks) {
    const length = chunk.length;
    if (length > 0) {
      const last = chunk.charCodeAt(length - 1);
      endsWithLineBreak = last === LF || last === CR;
    }
    // Start of the literal run being copied into `field`, or -1.
    let run = state === State.Unquoted || state === State.Quoted ? 0 : -1;
    let i = 0;
    while (i < length) {
      if (state === State.Skip) {
        let end = i;
        let c = chunk.charCodeAt(end);
        while (c !== LF && c !== CR && ++end < length) c = chunk.charCodeAt(end);
        if (end >= length) {
          afterCr = false;
          break;
        }
        // The line feed of a CRLF whose carriage return was counted already.
        const crlf = c === LF && afterCr && end === i;
        i = end + 1;
        afterCr = c === CR;
        if (crlf) continue;
        line++;
        reset();
        continue;
      }
      // Fast paths: run to the end of an unquoted field, or to the next quote of a quoted one.
      if (state === State.Unquoted) {
        const from = i;
        let c = chunk.charCodeAt(i);
        while (c !== COMMA && c !== LF && c !== CR && ++i < length) c = chunk.charCodeAt(i);
        recordChars += i - from;
      } else if (state === State.Quoted) {
        const quote = chunk.indexOf('"', i);
        const end = quote === -1 ? length : quote;
        // CRLF, LF or a lone CR each end a line.
        for (let k = i; k < end; k++) {
          const c = chunk.charCodeAt(k);
          if (c === CR || (c === LF && !afterCr)) line++;
          afterCr = c === CR;
        }
        recordChars += end - i;
        i = end;
      }
      if (recordChars > maxRecordChars) {
        out.push({
          kind: 'problem',
          line: recordLine,
          reason: `record is longer than ${maxRecordChars} characters; skipped to the next line`,
        });
        run = -1;
        state = State.Skip;
        continue;
      }
      if (i >= length) break;
      const c = chunk.charCodeAt(i);
      recordChars++;
      const crlf = c === LF && afterCr;
      afterCr = c === CR;
      switch (state) {
        case State.FieldStart:
          if (c === QUOTE) {
            state = State.Quoted;
            quotedRecord = true;
            run = i + 1;
          } else if (c === COMMA) {
            fields.push('');
          } else if (crlf) {
            // The line ended at its carriage return.
            recordChars--;
          } else if (c === LF || c === CR) {
            line++;
            endRecord();
          } else {
            state = State.Unquoted;
            run = i;
            recordChars--; // the fast path reads this character again as part of the field
            continue;
          }
          break;
        case State.Unquoted:
          // Stopped at a comma or a line break.
          field += chunk.slice(run, i);
          run = -1;
          if (c === COMMA) {
            fields.push(field);
            field = '';
            state = State.FieldStart;
          } else {
            line++;
            endRecord();
          }
          break;
        case State.Quoted:
          // Stopped at a quote.
          field += chunk.slice(run, i);
          run = -1;
          state = State.AfterQuote;
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
          } else if (c === LF || c === CR) {
            line++;
            endRecord();
          } else {
            state = State.Unquoted;
            run = i;
            recordChars--;
            continue;
          }
          break;
      }
      i++;
    }
    if (run >= 0 && state !== State.Skip) field += chunk.slice(run);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  if (state === State.Quoted) {
    // The last line with text: a final line break ends a line, it does not start one.
    const last = endsWithLineBreak ? line - 1 : line;
    const taken = last === recordLine + 1 ? `line ${last}` : `lines ${recordLine + 1}-${last}`;
    out.push({
      kind: 'problem',
      line: recordLine,
      ...(last > recordLine ? { lastLine: last } : {}),
      reason:
        last > recordLine
          ? `a quoted field opened on line ${recordLine} is never closed (missing "): it took in ${taken} to the end of the file`
          : 'a quoted field is never closed (missing ")',
    });
  } else if (state !== State.Skip && (fields.length > 0 || field !== '' || quotedRecord)) {
    endRecord(line);
  }
  if (out.length > 0) yield out;
}
