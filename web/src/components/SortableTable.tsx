import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ScrollArea } from './ScrollArea.js';

/** A column of a sortable table. */
export interface Column<Row> {
  readonly key: string;
  readonly label: string;
  /** What the column sorts by; null sorts last either way. */
  readonly value: (row: Row) => string | number | null;
  readonly render?: (row: Row) => ComponentChildren;
  readonly numeric?: boolean;
  /** The direction of the first click: numbers where more is better sort descending first. */
  readonly firstDescending?: boolean;
}

type Sort = { readonly key: string; readonly descending: boolean };

/**
 * A table whose header cells hold sort buttons (keyboard-operable, as buttons are) and carry
 * `aria-sort` on the sorted column. It scrolls sideways on a narrow screen.
 */
export function SortableTable<Row>(props: {
  caption: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  initial: Sort;
  id?: string;
}) {
  const [sort, setSort] = useState<Sort>(props.initial);
  const column = props.columns.find((c) => c.key === sort.key) ?? props.columns[0];
  const rows = column ? sorted(props.rows, column, sort.descending) : props.rows;
  const toggle = (c: Column<Row>) =>
    setSort((now) =>
      now.key === c.key
        ? { key: c.key, descending: !now.descending }
        : { key: c.key, descending: c.firstDescending ?? false },
    );
  return (
    <ScrollArea label={props.caption}>
      <table id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = c.key === sort.key;
              return (
                <th
                  key={c.key}
                  scope="col"
                  class={c.numeric ? 'num' : undefined}
                  aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : undefined}
                >
                  <button type="button" class="sort" data-column={c.key} onClick={() => toggle(c)}>
                    {c.label}
                    <span aria-hidden="true" class="sort-mark">
                      {active ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}
                    </span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={props.rowKey(row)} data-key={props.rowKey(row)}>
              {props.columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'num' : undefined} data-column={c.key}>
                  {c.render ? c.render(row) : String(c.value(row) ?? '–')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollArea>
  );
}

function sorted<Row>(rows: readonly Row[], column: Column<Row>, descending: boolean): Row[] {
  const direction = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * direction;
    return String(x).localeCompare(String(y)) * direction;
  });
}
