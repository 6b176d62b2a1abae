/**
 * Events explorer: one time series of a measure over events, broken down by
 * a dimension, filtered, over a range, optionally against the previous
 * period. Everything is in the URL (#/events?measure=...&by=...&f=...), so
 * a view can be shared as it is.
 */
import { isPartial, timeseries } from '../api';
import { hasValues, PALETTE, timeChart, type LineSeries } from '../chart';
import { h, table } from '../dom';
import {
  ADDITIVE,
  DIMENSIONS,
  explorerRequest,
  explorerState,
  filterParam,
  INTERVALS,
  MEASURE_LABELS,
  MEASURES,
  NEEDS_FIELD,
  OP_LABELS,
  OPS,
  parseFilter,
  RANGES,
} from '../explorer';
import { changePct, fmtInt, fmtNum, fmtPct } from '../format';
import { withParams } from '../router';
import type { View } from '../view';

function select(name: string, options: readonly string[], value: string, labels: Record<string, string> = {}): HTMLSelectElement {
  const el = h('select', { name, id: `ctl-${name}` }, ...options.map((o) => h('option', { value: o }, labels[o] ?? o)));
  el.value = value;
  return el;
}

export function eventsPage(v: View): void {
  const s = explorerState(v.params);
  const req = explorerRequest(s);
  const set = (patch: Record<string, string | string[] | null>): void => v.go(withParams(v.params, patch));

  // --- controls -------------------------------------------------------------------------------
  const measure = select('measure', MEASURES, s.measure, MEASURE_LABELS);
  const field = h('input', {
    name: 'field',
    id: 'ctl-field',
    placeholder: 'property, e.g. response_time',
    value: s.field,
    list: 'numeric-fields',
    hidden: !NEEDS_FIELD.has(s.measure),
  });
  const by = h('input', { name: 'by', id: 'ctl-by', placeholder: 'none', value: s.by, list: 'dimensions' });
  const range = select('range', RANGES, s.range, {
    '15m': 'Last 15 minutes',
    '1h': 'Last hour',
    '6h': 'Last 6 hours',
    '24h': 'Last 24 hours',
    '7d': 'Last 7 days',
    '30d': 'Last 30 days',
  });
  const interval = select('interval', INTERVALS, s.interval, { auto: 'Auto interval' });
  const compare = h('input', { type: 'checkbox', name: 'compare', id: 'ctl-compare', checked: s.compare });
  measure.addEventListener('change', () => {
    field.hidden = !NEEDS_FIELD.has(measure.value);
    if (!NEEDS_FIELD.has(measure.value) || field.value) apply();
    else field.focus();
  });
  const apply = (): void =>
    set({
      measure: measure.value === 'count' ? null : measure.value,
      field: NEEDS_FIELD.has(measure.value) ? field.value.trim() : null,
      by: by.value.trim() || null,
      range: range.value === '24h' ? null : range.value,
      interval: interval.value === 'auto' ? null : interval.value,
      compare: compare.checked ? '1' : null,
    });
  for (const el of [range, interval, compare]) el.addEventListener('change', apply);
  for (const el of [field, by]) el.addEventListener('change', apply);

  const fField = h('input', { name: 'filter-field', id: 'ctl-filter-field', placeholder: 'field', list: 'dimensions', value: 'name' });
  const fOp = select('filter-op', OPS, 'is', OP_LABELS);
  const fValue = h('input', { name: 'filter-value', id: 'ctl-filter-value', placeholder: 'value' });
  const fError = h('span', { class: 'form-error', role: 'alert' });
  const addFilter = (ev: Event): void => {
    ev.preventDefault();
    const f = parseFilter(`${fField.value.trim()}:${fOp.value}:${fValue.value.trim()}`);
    if (!f || f.value === '') {
      fError.textContent = 'A filter needs a field (a built-in one or properties.<key>) and a value.';
      return;
    }
    if (['gt', 'gte', 'lt', 'lte'].includes(f.op) && !Number.isFinite(Number(f.value))) {
      fError.textContent = `${OP_LABELS[f.op]} needs a number.`;
      return;
    }
    set({ f: [...s.filters.map(filterParam), filterParam(f)] });
  };

  const controls = h(
    'form',
    { class: 'controls', 'data-form': 'explorer', onsubmit: (ev: Event) => (ev.preventDefault(), apply()) },
    h('datalist', { id: 'dimensions' }, ...DIMENSIONS.map((d) => h('option', { value: d })), h('option', { value: 'properties.' })),
    h(
      'datalist',
      { id: 'numeric-fields' },
      ...['response_time', 'duration_ms', 'amount', 'rating', 'prompt_tokens', 'completion_tokens'].map((d) => h('option', { value: d })),
    ),
    h('label', { class: 'ctl' }, h('span', null, 'Measure'), h('span', { class: 'ctl-row' }, measure, field)),
    h('label', { class: 'ctl' }, h('span', null, 'Break down by'), by),
    h('label', { class: 'ctl' }, h('span', null, 'Range'), range),
    h('label', { class: 'ctl' }, h('span', null, 'Interval'), interval),
    h('label', { class: 'ctl ctl-check' }, compare, h('span', null, 'Compare with the previous period')),
  );
  const filterBar = h(
    'div',
    { class: 'filters', 'data-filters': String(s.filters.length) },
    ...s.filters.map((f, i) =>
      h(
        'span',
        { class: 'chip', 'data-filter': filterParam(f) },
        `${f.field} ${OP_LABELS[f.op]} ${f.value}`,
        h(
          'button',
          {
            type: 'button',
            class: 'chip-x',
            'aria-label': `Remove filter ${f.field}`,
            onclick: () => set({ f: s.filters.filter((_, j) => j !== i).map(filterParam) }),
          },
          '×',
        ),
      ),
    ),
    h(
      'form',
      { class: 'filter-add', 'data-form': 'add-filter', onsubmit: addFilter },
      fField,
      fOp,
      fValue,
      h('button', { class: 'btn btn-small', type: 'submit' }, 'Add filter'),
      fError,
    ),
  );
  v.root.append(h('h1', { class: 'page-title' }, 'Events'), h('section', { class: 'panel panel-controls' }, controls, filterBar));

  // --- chart and table ------------------------------------------------------------------------
  const label = (d: Record<string, string>): string => (s.by ? (d[s.by] === '' ? '(none)' : (d[s.by] ?? '')) : 'All events');
  const fmt = (x: number): string => (s.measure.startsWith('p') || s.measure === 'avg' ? fmtNum(x, 1) : fmtInt(x));
  const panel = v.panel({
    id: 'explorer',
    title: `${MEASURE_LABELS[s.measure]}${NEEDS_FIELD.has(s.measure) ? ` ${s.field || '…'}` : ''}${s.by ? ` by ${s.by}` : ''}`,
    class: 'panel-wide',
    load: async (signal) => (req ? timeseries(req, signal) : null),
    render: (r) => {
      if (!r) return null;
      const xs = r.series[0]?.points.map((p) => p.t) ?? [];
      const series: LineSeries[] = r.series
        .slice(0, 10)
        .map((sr, i) => ({ label: label(sr.dimensions), values: sr.points.map((p) => p.value ?? null), color: PALETTE[i % PALETTE.length]! }));
      if (r.previous && r.series.length > 0) {
        // The previous period drawn on the same x positions, dashed, for the largest groups.
        r.series.slice(0, 3).forEach((sr, i) => {
          const prev = r.previous!.find((p) => JSON.stringify(p.dimensions) === JSON.stringify(sr.dimensions));
          if (prev)
            series.push({
              label: `${label(sr.dimensions)} (previous)`,
              values: sr.points.map((_, k) => prev.points[k]?.value ?? null),
              dash: true,
              color: PALETTE[i % PALETTE.length]!,
            });
        });
      }
      if (!hasValues(series) || (ADDITIVE.has(s.measure) && r.series.every((sr) => sr.points.every((p) => !p.value)))) return null;
      const agg = (points: Record<string, number | null>[]): number | null => {
        const vals = points.map((p) => p.value ?? null).filter((x): x is number => x !== null && x !== undefined && Number.isFinite(x));
        if (vals.length === 0) return null;
        const sum = vals.reduce((a, b) => a + b, 0);
        return ADDITIVE.has(s.measure) ? sum : sum / vals.length;
      };
      // The figure of the range is the API's `total`: the measure computed over the whole range (a p95 from the
      // merged sketches, unique users counted once), never a mean of per-interval values.
      const over = (sr: (typeof r.series)[number]): number | null => (sr.total ? (sr.total['value'] ?? null) : agg(sr.points));
      const rows = r.series.map((sr) => {
        const prev = r.previous?.find((p) => JSON.stringify(p.dimensions) === JSON.stringify(sr.dimensions));
        const total = over(sr);
        const before = prev ? over(prev) : null;
        return { key: label(sr.dimensions), dims: sr.dimensions, total, before, change: changePct(total, before) };
      });
      const aggLabel = ADDITIVE.has(s.measure) ? 'Total' : 'Over the range';
      const lastPartial = r.series.some((sr) => sr.points.length > 0 && isPartial(sr.points[sr.points.length - 1]!));
      return h(
        'div',
        null,
        h('p', { class: 'muted small' }, `${r.meta.interval} intervals · from ${r.meta.table}${r.meta.approximate.length ? ' (approximate)' : ''}`),
        timeChart({ id: 'explorer', xs, series, format: fmt, height: 280 }),
        lastPartial ? h('p', { class: 'muted small', 'data-partial': 'true' }, `The last ${r.meta.interval} interval is still filling (partial).`) : null,
        table(
          'explorer-groups',
          rows,
          [
            {
              head: s.by || 'Series',
              cell: (x) =>
                s.by
                  ? h(
                      'a',
                      { href: `#/events?${withParams(v.params, { f: [...s.filters.map(filterParam), `${s.by}:is:${x.dims[s.by] ?? ''}`], by: null })}` },
                      x.key,
                    )
                  : x.key,
            },
            {
              head: aggLabel,
              title: ADDITIVE.has(s.measure)
                ? 'Sum over the range'
                : 'The measure computed over the whole range (percentiles from merged sketches, uniques counted once), not a mean of the intervals',
              cell: (x) => h('span', { 'data-value': x.total ?? '' }, x.total === null ? '—' : fmt(x.total)),
              class: 'num',
            },
            ...(s.compare
              ? [
                  { head: 'Previous period', cell: (x: (typeof rows)[number]) => (x.before === null ? '—' : fmt(x.before)), class: 'num' },
                  {
                    head: 'Change',
                    cell: (x: (typeof rows)[number]) =>
                      h(
                        'span',
                        { class: x.change === null ? '' : x.change >= 0 ? 'up' : 'down' },
                        x.change === null ? '—' : `${x.change >= 0 ? '+' : ''}${fmtPct(x.change)}`,
                      ),
                    class: 'num',
                  },
                ]
              : []),
          ],
          (x) => ({ 'data-group': x.key }),
        ),
      );
    },
    empty: (r) =>
      r === null
        ? { message: `${MEASURE_LABELS[s.measure]} needs a numeric property`, hint: 'Type the property name (e.g. response_time) next to the measure.' }
        : {
            message: 'No matching events in this range',
            hint: s.filters.length ? 'Remove a filter or widen the range.' : 'Widen the range, or send events to the collector.',
          },
  });
  v.root.append(panel.el);
}
