import { escapeHtml as escape } from '../staff/console-shell';

/**
 * A campaign's funnel as inline SVG: recipients, sent, delivered, failed, opted out, one bar each,
 * scaled to the recipients, with the numbers written on the bars (readable without colour).
 */
export function funnelSvg(rows: ReadonlyArray<{ key: string; label: string; value: number }>, title: string): string {
  const max = Math.max(1, ...rows.map((row) => row.value));
  const barHeight = 26;
  const labelWidth = 150;
  const width = 640;
  const height = rows.length * (barHeight + 8) + 8;
  const bars = rows
    .map((row, i) => {
      const y = 8 + i * (barHeight + 8);
      const w = Math.max(row.value ? 2 : 0, ((width - labelWidth - 70) * row.value) / max);
      return `<text x="0" y="${y + 18}" font-size="13">${escape(row.label)}</text><rect class="${escape(row.key)}" x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}"/><text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 18}" font-size="13">${row.value}</text>`;
    })
    .join('');
  return `<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escape(title)}"><title>${escape(title)}</title>${bars}</svg>`;
}
