import stringWidth from 'string-width';

/** How a column is aligned. */
export type Align = 'left' | 'right';

/**
 * Rows as aligned text columns, two spaces apart, each line without trailing spaces. Widths
 * are measured in terminal cells (a CJK character takes two, a combining mark none), so a
 * column stays aligned whatever the names in it.
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
  indent = '',
): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, stringWidth(cell));
    });
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - stringWidth(cell));
          return align[i] === 'right' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
  );
}

/** The width of text in terminal cells. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` padded with spaces on the right to `width` terminal cells. */
export function padCells(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}
