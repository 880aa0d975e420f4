/** Escape text for XML/HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One colour per loss mode, fixed so every chart and legend agrees. */
export const MODE_COLOURS: Record<string, string> = { structural: '#1f77b4', 'cross-entropy': '#d62728', hybrid: '#2ca02c' };

export interface Series {
  mode: string;
  /** Mean over seeds per epoch (NaN where no run has the epoch). */
  mean: number[];
  min: number[];
  max: number[];
}

/**
 * A line chart as inline SVG: one polyline per mode (the mean over seeds) over a shaded band
 * (min–max over seeds), axes with a few ticks. Static markup, no script, so it renders offline.
 */
export function lineChart(title: string, series: Series[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 360;
  const H = opts.height ?? 220;
  const pad = { l: 48, r: 10, t: 24, b: 30 };
  const n = Math.max(1, ...series.map((s) => s.mean.length));
  const values = series.flatMap((s) => [...s.min, ...s.max, ...s.mean]).filter(Number.isFinite);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-12) {
    // A flat series (or one epoch): a narrow band around its value, not below 0 for a non-negative one.
    const d = Math.max(Math.abs(hi) * 0.1, 1e-3);
    hi += d;
    lo = lo >= 0 ? Math.max(0, lo - d) : lo - d;
  }
  const x = (i: number): number => pad.l + (n === 1 ? 0.5 : i / (n - 1)) * (W - pad.l - pad.r);
  const y = (v: number): number => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  const parts: string[] = [`<svg class="chart" data-title="${esc(title)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`];
  parts.push(`<text x="${W / 2}" y="15" text-anchor="middle" class="chart-title">${esc(title)}</text>`);
  parts.push(`<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#888"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<text x="${pad.l - 4}" y="${y(v) + 3}" text-anchor="end" class="tick">${esc(Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3))}</text>`);
  }
  for (const i of [0, Math.floor((n - 1) / 2), n - 1]) parts.push(`<text x="${x(i)}" y="${H - pad.b + 14}" text-anchor="middle" class="tick">${i + 1}</text>`);
  parts.push(`<text x="${W / 2}" y="${H - 3}" text-anchor="middle" class="tick">epoch</text>`);
  for (const s of series) {
    const colour = MODE_COLOURS[s.mode] ?? '#555';
    const idx = s.mean.map((_, i) => i).filter((i) => Number.isFinite(s.mean[i]));
    if (idx.length === 0) continue;
    const band = [...idx.map((i) => `${x(i).toFixed(1)},${y(s.max[i]!).toFixed(1)}`), ...[...idx].reverse().map((i) => `${x(i).toFixed(1)},${y(s.min[i]!).toFixed(1)}`)];
    parts.push(`<polygon class="spread" data-mode="${esc(s.mode)}" points="${band.join(' ')}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
    parts.push(`<polyline class="curve" data-mode="${esc(s.mode)}" points="${idx.map((i) => `${x(i).toFixed(1)},${y(s.mean[i]!).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    // A dot per epoch: a one-epoch curve is a single point, which a polyline does not draw.
    if (idx.length <= 3) for (const i of idx) parts.push(`<circle class="point" data-mode="${esc(s.mode)}" cx="${x(i).toFixed(1)}" cy="${y(s.mean[i]!).toFixed(1)}" r="3" fill="${colour}"/>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
