/**
 * A small SVG line-chart writer (no dependency): several series on linear or log axes, with ticks,
 * grid, legend and an optional horizontal threshold line. Enough for latency CDFs and throughput curves.
 */

export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
  color?: string;
  markers?: boolean;
}
export interface Axis {
  label: string;
  log?: boolean;
  min?: number;
  max?: number;
  format?: (v: number) => string;
}
export interface ChartSpec {
  title: string;
  subtitle?: string;
  x: Axis;
  y: Axis;
  series: Series[];
  width?: number;
  height?: number;
  hline?: { y: number; label: string };
  diagonal?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000) return `${Math.round(v / 1000)}k`;
  if (a >= 1000) return `${(v / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  if (a >= 10) return String(Math.round(v));
  if (a >= 1) return v.toFixed(1).replace(/\.0$/, '');
  return v.toPrecision(1);
}

function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    }
    return out;
  }
  const span = max - min || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 7) ?? mag * 10;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const legendRows = Math.ceil(spec.series.length / 2);
  const H = (spec.height ?? 420) + legendRows * 17;
  const m = { l: 70, r: 20, t: spec.subtitle ? 58 : 42, b: 56 + legendRows * 17 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = spec.series
    .flatMap((s) => s.points)
    .filter(
      ([x, y]) =>
        Number.isFinite(x) && Number.isFinite(y) && (!spec.x.log || x > 0) && (!spec.y.log || y > 0),
    );
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let xmin = spec.x.min ?? (xs.length ? Math.min(...xs) : 0);
  let xmax = spec.x.max ?? (xs.length ? Math.max(...xs) : 1);
  let ymin = spec.y.min ?? (ys.length ? Math.min(...ys) : 0);
  let ymax = spec.y.max ?? (ys.length ? Math.max(...ys) : 1);
  if (spec.hline) {
    ymax = Math.max(ymax, spec.hline.y * 1.1);
    ymin = Math.min(ymin, spec.hline.y);
  }
  if (spec.x.log) {
    xmin = 10 ** Math.floor(Math.log10(Math.max(xmin, 1e-3)));
    xmax = 10 ** Math.ceil(Math.log10(Math.max(xmax, xmin * 10)));
  }
  if (spec.y.log) {
    ymin = 10 ** Math.floor(Math.log10(Math.max(ymin, 1e-3)));
    ymax = 10 ** Math.ceil(Math.log10(Math.max(ymax, ymin * 10)));
  }
  if (xmax === xmin) xmax = xmin + 1;
  if (ymax === ymin) ymax = ymin + 1;
  const sx = (x: number): number =>
    m.l +
    (spec.x.log
      ? (Math.log10(x) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin))
      : (x - xmin) / (xmax - xmin)) *
      pw;
  const sy = (y: number): number =>
    m.t +
    ph -
    (spec.y.log
      ? (Math.log10(y) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin))
      : (y - ymin) / (ymax - ymin)) *
      ph;
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  );
  if (spec.subtitle)
    o.push(
      `<text x="${W / 2}" y="38" text-anchor="middle" font-size="11" fill="#555">${esc(spec.subtitle)}</text>`,
    );
  const fx = spec.x.format ?? fmt;
  const fy = spec.y.format ?? fmt;
  for (const t of ticks(xmin, xmax, !!spec.x.log)) {
    const x = sx(t);
    o.push(`<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    o.push(
      `<text x="${x.toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle" fill="#333">${esc(fx(t))}</text>`,
    );
  }
  for (const t of ticks(ymin, ymax, !!spec.y.log)) {
    const y = sy(t);
    o.push(`<line x1="${m.l}" y1="${y.toFixed(1)}" x2="${m.l + pw}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    o.push(
      `<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${esc(fy(t))}</text>`,
    );
  }
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  o.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 36}" text-anchor="middle">${esc(spec.x.label)}</text>`);
  o.push(
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.y.label)}</text>`,
  );
  o.push(`<clipPath id="plot"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath>`);
  if (spec.diagonal) {
    const lo = Math.max(xmin, ymin);
    const hi = Math.min(xmax, ymax);
    if (hi > lo)
      o.push(
        `<line x1="${sx(lo).toFixed(1)}" y1="${sy(lo).toFixed(1)}" x2="${sx(hi).toFixed(1)}" y2="${sy(hi).toFixed(1)}" stroke="#aaa" stroke-dasharray="2 4" clip-path="url(#plot)"/>`,
      );
  }
  if (spec.hline) {
    const y = sy(spec.hline.y);
    o.push(
      `<line x1="${m.l}" y1="${y.toFixed(1)}" x2="${m.l + pw}" y2="${y.toFixed(1)}" stroke="#999" stroke-dasharray="6 4"/>`,
    );
    o.push(
      `<text x="${m.l + pw - 4}" y="${(y - 5).toFixed(1)}" text-anchor="end" fill="#777" font-size="11">${esc(spec.hline.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(
      ([x, y]) =>
        Number.isFinite(x) && Number.isFinite(y) && (!spec.x.log || x > 0) && (!spec.y.log || y > 0),
    );
    if (!pts.length) return;
    const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    o.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''} clip-path="url(#plot)"/>`,
    );
    if (s.markers)
      for (const [x, y] of pts)
        o.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}" clip-path="url(#plot)"/>`,
        );
  });
  // legend below the plot, two columns
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const x = m.l + (i % 2) * (pw / 2);
    const y = m.t + ph + 58 + Math.floor(i / 2) * 17;
    o.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`,
    );
    o.push(`<text x="${x + 23}" y="${y}" fill="#222" font-size="11">${esc(s.name)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}
