import { escapeHtml as escape } from '../staff/console-shell';

/**
 * A bar chart as inline SVG (no script, no library): one bar per day, the count on each bar for
 * screen readers and print, a title and description for assistive technology.
 */
export function barChartSvg(points: ReadonlyArray<{ label: string; value: number; shown?: string }>, text: { title: string; description: string }): string {
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
  const bars = points
    .map((point, index) => {
      const x = left + index * slot + (slot - bar) / 2;
      const h = point.value * scale;
      const y = height - bottom - h;
      const label = index % Math.ceil(points.length / 10) === 0 ? `<text x="${x + bar / 2}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${escape(point.label.slice(5))}</text>` : '';
      // A suppressed count (partners' "<5") has no bar, only its text.
      const shown = point.shown ?? String(point.value);
      const text = point.value || point.shown ? `<text x="${(x + bar / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="9" text-anchor="middle">${escape(shown)}</text>` : '';
      return `<g><title>${escape(point.label)}: ${escape(shown)}</title><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="#1e3a8a"/>${text}${label}</g>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">${escape(text.title)}</title><desc id="chart-desc">${escape(text.description)}</desc>
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#999"/>${highest ? `<text x="0" y="${top}" font-size="10">${max}</text>` : ''}${bars}</svg>`;
}
