/**
 * Time-series charts with uPlot: canvas drawing, fast with thousands of
 * points, 50 kB. A chart is created once its container has a width (a
 * ResizeObserver, so charts built before they are attached still size
 * right) and follows the container's width on laptops and phones.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LineSeries } from './chart-types';
import { h } from './dom';

export const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#dc2626', '#4b5563', '#0d9488'];

export type { LineSeries } from './chart-types';

export interface ChartOptions {
  /** data-chart attribute. */
  id: string;
  /** Bucket starts, epoch milliseconds. */
  xs: number[];
  series: LineSeries[];
  height?: number;
  /** Formats y values on the axis and in the legend. */
  format?: (v: number) => string;
  /** Bars instead of lines (counts per bucket). */
  bars?: boolean;
  /** Steps (states over time). */
  stepped?: boolean;
  yRange?: [number, number];
  /** Labels of integer y values (alert states). */
  yLabels?: Record<number, string>;
}

const live = new Set<{ el: HTMLElement; plot: uPlot | null; ro: ResizeObserver }>();

/** Destroys charts whose element left the page (page changes, panel reloads). */
export function sweepCharts(): void {
  for (const c of live) {
    if (!c.el.isConnected) {
      c.ro.disconnect();
      c.plot?.destroy();
      live.delete(c);
    }
  }
}

/** Whether any series has a value: an all-empty chart is shown as the empty state instead. */
export function hasValues(series: LineSeries[]): boolean {
  return series.some((s) => s.values.some((v) => v !== null && v !== undefined && Number.isFinite(v)));
}

export function timeChart(o: ChartOptions): HTMLElement {
  // Later, not now: charts built in the same render are not attached yet and must not be swept.
  setTimeout(sweepCharts, 0);
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]!);
  const points = o.series.reduce((n, s) => n + s.values.filter((v) => v !== null && Number.isFinite(v)).length, 0);
  const el = h('div', {
    class: 'chart',
    'data-chart': o.id,
    'data-points': String(points),
    'data-colors': colors.join(','),
    role: 'img',
    'aria-label': `${o.id} chart: ${o.series.map((s) => s.label).join(', ')}`,
  });
  const fmt = o.format ?? ((v: number) => String(v));
  const height = o.height ?? 240;
  const bars = o.bars ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined;
  const stepped = o.stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined;
  const entry = { el, plot: null as uPlot | null, ro: new ResizeObserver(() => size()) };
  const size = (): void => {
    const width = Math.floor(el.clientWidth);
    if (width <= 0) return;
    if (entry.plot) {
      if (Math.abs(entry.plot.width - width) > 1) entry.plot.setSize({ width, height });
      return;
    }
    const opts: uPlot.Options = {
      width,
      height,
      // uPlot wants seconds on the time axis.
      scales: { x: { time: true }, y: o.yRange ? { range: o.yRange } : { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' } },
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#e5e7eb' },
          size: 64,
          values: (_u, splits) => splits.map((v) => (o.yLabels ? (o.yLabels[v] ?? '') : fmt(v))),
          ...(o.yLabels ? { splits: () => Object.keys(o.yLabels!).map(Number) } : {}),
        },
      ],
      series: [
        {
          value: (_u, v) =>
            v === null
              ? '—'
              : new Date(v * 1000).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }),
        },
        ...o.series.map((s, i) => ({
          label: s.label,
          stroke: colors[i],
          width: 2,
          ...(s.dash ? { dash: [6, 4] } : {}),
          ...(s.fill || o.bars ? { fill: `${colors[i]}${o.bars ? 'cc' : '22'}` } : {}),
          ...(bars ? { paths: bars, points: { show: false } } : stepped ? { paths: stepped } : {}),
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : o.yLabels ? (o.yLabels[v] ?? String(v)) : fmt(v)),
        })),
      ],
      hooks: {
        draw: [
          () => {
            el.dataset.drawn = '1';
          },
        ],
      },
    };
    const data: uPlot.AlignedData = [
      o.xs.map((t) => t / 1000),
      ...o.series.map((s) => s.values.map((v) => (v === null || v === undefined || !Number.isFinite(v) ? null : v))),
    ];
    entry.plot = new uPlot(opts, data, el);
  };
  live.add(entry);
  entry.ro.observe(el);
  return el;
}
