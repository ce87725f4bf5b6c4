/**
 * Charts as inline SVG (no script, no library), readable without colour: every bar has its number
 * written on it, and the chart a title (and a description) for assistive technology.
 */

/** A campaign's funnel: recipients, sent, delivered, failed, opted out, one bar each, scaled to the largest. */
export function FunnelChart(props: { rows: ReadonlyArray<{ key: string; label: string; value: number }>; title: string }) {
  const { rows, title } = props;
  const max = Math.max(1, ...rows.map((row) => row.value));
  const barHeight = 26;
  const labelWidth = 150;
  const width = 640;
  const height = rows.length * (barHeight + 8) + 8;
  return (
    <svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={title}>
      <title>{title}</title>
      {rows.map((row, i) => {
        const y = 8 + i * (barHeight + 8);
        const w = Math.max(row.value ? 2 : 0, ((width - labelWidth - 70) * row.value) / max);
        return (
          <>
            <text x="0" y={y + 18} font-size="13">{row.label}</text>
            <rect class={row.key} x={labelWidth} y={y} width={w.toFixed(1)} height={barHeight} />
            <text x={(labelWidth + w + 6).toFixed(1)} y={y + 18} font-size="13">{row.value}</text>
          </>
        );
      })}
    </svg>
  );
}

/**
 * One bar per day, the count on each bar for screen readers and print; a day's label under every
 * tenth bar or so. A suppressed count (partners' "<5") has no bar, only its text (`shown`).
 */
export function BarChart(props: {
  points: ReadonlyArray<{ label: string; value: number; shown?: string }>;
  title: string;
  description: string;
}) {
  const { points } = props;
  const width = 720;
  const height = 220;
  const top = 20;
  const bottom = 40;
  const left = 30;
  const highest = Math.max(0, ...points.map((point) => point.value));
  const max = Math.max(1, highest);
  const slot = (width - left) / Math.max(points.length, 1);
  const bar = Math.max(2, slot * 0.7);
  const scale = (height - top - bottom) / max;
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby="chart-title chart-desc"
    >
      <title id="chart-title">{props.title}</title>
      <desc id="chart-desc">{props.description}</desc>
      <line x1={left} y1={height - bottom} x2={width} y2={height - bottom} stroke="#999" />
      {highest ? <text x="0" y={top} font-size="10">{max}</text> : null}
      {points.map((point, index) => {
        const x = left + index * slot + (slot - bar) / 2;
        const h = point.value * scale;
        const y = height - bottom - h;
        const shown = point.shown ?? String(point.value);
        return (
          <g>
            <title>{point.label}: {shown}</title>
            <rect x={x.toFixed(1)} y={y.toFixed(1)} width={bar.toFixed(1)} height={h.toFixed(1)} fill="#1e3a8a" />
            {point.value || point.shown ? (
              <text x={(x + bar / 2).toFixed(1)} y={(y - 3).toFixed(1)} font-size="9" text-anchor="middle">{shown}</text>
            ) : null}
            {index % Math.ceil(points.length / 10) === 0 ? (
              <text x={x + bar / 2} y={height - bottom + 14} font-size="10" text-anchor="middle">{point.label.slice(5)}</text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

/**
 * Shares of one breakdown (a question's answers): one bar each on a 0-100 % scale, the share and its count written
 * after it. A hidden count ("<5") has no bar, only its text. `key` "correct" marks the right answer of a quiz.
 */
export function ShareChart(props: {
  rows: ReadonlyArray<{ key: string; label: string; share: number | null; shown: string }>;
  title: string;
}) {
  const { rows, title } = props;
  const barHeight = 26;
  const labelWidth = 220;
  const width = 640;
  const height = rows.length * (barHeight + 8) + 8;
  const scale = width - labelWidth - 130;
  return (
    <svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={title}>
      <title>{title}</title>
      {rows.map((row, i) => {
        const y = 8 + i * (barHeight + 8);
        const w = row.share === null ? 0 : Math.max(row.share > 0 ? 2 : 0, scale * row.share);
        return (
          <g>
            <title>{row.label}: {row.shown}</title>
            <text x="0" y={y + 18} font-size="13">{row.label.length > 32 ? `${row.label.slice(0, 31)}…` : row.label}</text>
            <rect class={row.key} x={labelWidth} y={y} width={w.toFixed(1)} height={barHeight} />
            <text x={(labelWidth + w + 6).toFixed(1)} y={y + 18} font-size="13">{row.shown}</text>
          </g>
        );
      })}
    </svg>
  );
}
