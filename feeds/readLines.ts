/** A line of text with its 1-based number, or a line too long to keep. */
export type TextLine =
  | { readonly kind: 'line'; readonly line: number; readonly text: string }
  | { readonly kind: 'problem'; readonly line: number; readonly reason: string };

/**
 * Splits text chunks into lines (LF or CRLF), in batches (one per chunk). A line longer than
 * `maxChars` is reported and dropped as it streams by, so it never sits in memory whole.
 */
export async function* readLines(
  chunks: AsyncIterable<string>,
  maxChars: number,
): AsyncGenerator<TextLine[]> {
  let line = 1;
  let pending = '';
  let tooLong = false;
  const finish = (text: string): TextLine => {
    const result: TextLine =
      tooLong || text.length > maxChars
        ? { kind: 'problem', line, reason: `line is longer than ${maxChars} characters` }
        : { kind: 'line', line, text: text.endsWith('\r') ? text.slice(0, -1) : text };
    tooLong = false;
    line++;
    return result;
  };
  for await (const chunk of chunks) {
    const batch: TextLine[] = [];
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      batch.push(finish(tooLong ? '' : pending + chunk.slice(start, end)));
      pending = '';
      start = end + 1;
    }
    if (!tooLong) {
      pending += chunk.slice(start);
      if (pending.length > maxChars) {
        tooLong = true;
        pending = '';
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (pending !== '' || tooLong) yield [finish(pending)];
}
