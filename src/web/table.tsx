import type { ComponentChildren } from 'preact';

/**
 * A table with one header row: a column title each (scope="col"); null for a column without a
 * title (the one with a row's buttons). The rows are the children.
 */
export function Table(props: { columns: readonly ComponentChildren[]; children?: ComponentChildren }) {
  return (
    <table>
      <thead>
        <tr>{props.columns.map((title) => (title === null ? <th></th> : <th scope="col">{title}</th>))}</tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** One count per row, the largest first, under a title; "-" when there are none. */
export function CountsSection(props: {
  title: string;
  counts: Readonly<Record<string, number | string>>;
  label?: (key: string) => string;
}) {
  const numeric = (count: number | string): number => (typeof count === 'number' ? count : 0);
  const rows = Object.entries(props.counts).sort(([, a], [, b]) => numeric(b) - numeric(a));
  return (
    <section>
      <h2>{props.title}</h2>
      <table>
        <tbody>
          {rows.length === 0 ? (
            <tr><td>-</td></tr>
          ) : (
            rows.map(([key, count]) => (
              <tr><th scope="row">{props.label ? props.label(key) : key}</th><td>{String(count)}</td></tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}
