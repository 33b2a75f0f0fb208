import type { ComponentChildren } from 'preact';
import { ScrollArea } from './ScrollArea.js';

/** A column heading: its text, and whether the column holds numbers (aligned right). */
export interface Heading {
  readonly label: string;
  readonly numeric?: boolean;
}

/** The headings of columns of numbers: `['Team', ...numeric('Games', 'RPI')]`. */
export function numeric(...labels: readonly string[]): Heading[] {
  return labels.map((label) => ({ label, numeric: true }));
}

interface TableProps {
  id: string;
  caption: string;
  /** The column headings, a plain string for a column of text. */
  headings: readonly (string | Heading)[];
  /** The body's rows. */
  children: ComponentChildren;
}

/** A table with a caption and a row of column headings. */
export function DataTable(props: TableProps) {
  return (
    <table id={props.id}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          {props.headings.map((heading) => {
            const column: Heading = typeof heading === 'string' ? { label: heading } : heading;
            return (
              <th key={column.label} scope="col" class={column.numeric ? 'num' : undefined}>
                {column.label}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A `DataTable` in a named region that scrolls sideways on a narrow screen. */
export function ScrollingTable(props: TableProps & { label: string }) {
  const { label, ...table } = props;
  return (
    <ScrollArea label={label}>
      <DataTable {...table} />
    </ScrollArea>
  );
}
