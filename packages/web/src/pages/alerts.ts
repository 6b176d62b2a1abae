/**
 * Alerts: what is active now (acknowledge from here), what happened
 * (history), what is muted (silences), and the rules, each with a preview:
 * a backtest of the rule over a past window drawn as its states over time.
 */
import { acknowledge, activeAlerts, alertHistory, createSilence, preview, rules, silences, type ActiveAlert, type StoredRule } from '../alerts-api';
import { ApiError } from '../api';
import { previewSeries, durationMs } from '../alerts-model';
import { timeChart } from '../chart';
import { badge, h, stat, table } from '../dom';
import { fmtAgo, fmtInt, fmtNum, fmtTime } from '../format';
import { hrefOf, pick, withParams } from '../router';
import type { View } from '../view';

const TABS = ['active', 'history', 'silences', 'rules'] as const;
const TAB_LABELS: Record<(typeof TABS)[number], string> = { active: 'Active', history: 'History', silences: 'Silences', rules: 'Rules' };
const WINDOWS = ['1h', '6h', '24h'] as const;
const WINDOW_MS: Record<(typeof WINDOWS)[number], number> = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000 };
const NAME_KEY = 'tidemark.ackName';

const stateTone: Record<string, string> = { firing: 'critical', pending: 'warning', recovering: 'info', resolved: 'ok', inactive: 'ok' };

function labelChips(labels: Record<string, string>): HTMLElement {
  const entries = Object.entries(labels).filter(([k]) => k !== 'alertname');
  return h(
    'span',
    { class: 'labels' },
    ...(entries.length ? entries.map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`)) : [h('span', { class: 'muted' }, '—')]),
  );
}

export function alertsPage(v: View): void {
  const tab = pick(v.params, 'tab', TABS, 'active');
  const ruleRaw = v.params.get('rule') ?? '';
  const rule = /^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(ruleRaw) ? ruleRaw : '';
  v.root.append(
    h('h1', { class: 'page-title' }, 'Alerts'),
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Alert views' },
      ...TABS.map((t) =>
        h(
          'a',
          {
            href: hrefOf('alerts', withParams(v.params, { tab: t === 'active' ? null : t })),
            class: 'tab',
            'data-tab': t,
            ...(t === tab ? { 'aria-current': 'page' } : {}),
          },
          TAB_LABELS[t],
        ),
      ),
      rule
        ? h(
            'span',
            { class: 'chip', 'data-filter': `rule:${rule}` },
            `rule = ${rule}`,
            h('a', { class: 'chip-x', href: hrefOf('alerts', withParams(v.params, { rule: null })), 'aria-label': 'All rules' }, '×'),
          )
        : null,
    ),
  );
  if (tab === 'active') activeTab(v, rule);
  else if (tab === 'history') historyTab(v, rule);
  else if (tab === 'silences') silencesTab(v);
  else rulesTab(v, rule);
}

function activeTab(v: View, rule: string): void {
  const panel = v.panel({
    id: 'alerts-active',
    title: 'Active alerts',
    class: 'panel-wide',
    load: async (signal) => (await activeAlerts(signal)).filter((a) => !rule || a.rule === rule),
    render: (list) => {
      if (list.length === 0) return null;
      const firing = list.filter((a) => a.state === 'firing').length;
      return h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('alerts.active', 'Active', list.length, fmtInt(list.length)),
          stat('alerts.firing', 'Firing', firing, fmtInt(firing), { tone: firing ? 'bad' : 'good' }),
          stat('alerts.acknowledged', 'Acknowledged', list.filter((a) => a.acknowledged).length, fmtInt(list.filter((a) => a.acknowledged).length)),
        ),
        table(
          'alerts-active',
          list,
          [
            { head: 'State', cell: (a) => [badge(a.state, stateTone[a.state] ?? 'info'), a.mutedBy ? badge('muted', 'info') : null] },
            { head: 'Severity', cell: (a) => badge(a.severity, a.severity.toLowerCase()) },
            { head: 'Rule', cell: (a) => h('a', { href: hrefOf('alerts', { tab: 'rules', rule: a.rule }) }, a.rule) },
            { head: 'Instance', cell: (a) => [labelChips(a.labels), a.annotations.summary ? h('div', { class: 'muted small' }, a.annotations.summary) : null] },
            { head: 'Value', cell: (a) => h('span', { 'data-value': a.value ?? '' }, fmtNum(a.value, 2)), class: 'num' },
            { head: 'Since', cell: (a) => h('span', { title: fmtTime(a.activeSince) }, fmtAgo(a.activeSince)), class: 'num' },
            { head: 'Acknowledged', cell: (a) => ackCell(a, () => void panel.reload()) },
          ],
          (a) => ({ 'data-alert': `${a.rule}/${a.fingerprint}`, 'data-state': a.state, 'data-acknowledged': a.acknowledged ? '1' : '0' }),
        ),
      );
    },
    empty: { message: rule ? `No active alerts of ${rule}` : 'No active alerts', hint: 'Everything the rules watch is within its thresholds.' },
  });
  v.root.append(panel.el);
  // Not while someone is filling in an acknowledge form: a reload would wipe it.
  v.every(15_000, () => {
    if (!panel.el.querySelector('.ack-form')) void panel.reload();
  });
}

/** "by X, 3 min ago", or a button that opens a small acknowledge form. */
function ackCell(a: ActiveAlert, done: () => void): HTMLElement {
  if (a.acknowledged)
    return h(
      'span',
      { class: 'acked', 'data-acked-by': a.acknowledged.by },
      `by ${a.acknowledged.by}, ${fmtAgo(a.acknowledged.at)}`,
      a.acknowledged.comment ? h('div', { class: 'muted small' }, a.acknowledged.comment) : null,
    );
  const cell = h('div', { class: 'ack' });
  const open = h('button', { class: 'btn btn-small', type: 'button', 'data-action': 'acknowledge' }, 'Acknowledge');
  open.addEventListener('click', () => {
    const by = h('input', {
      name: 'by',
      placeholder: 'your name',
      required: true,
      value: localStorage.getItem(NAME_KEY) ?? '',
      'aria-label': 'Acknowledged by',
    });
    const comment = h('input', { name: 'comment', placeholder: 'comment (optional)', 'aria-label': 'Comment' });
    const err = h('div', { class: 'form-error', role: 'alert' });
    const submit = h('button', { class: 'btn btn-small btn-primary', type: 'submit', 'data-action': 'confirm-acknowledge' }, 'Confirm');
    const form = h('form', { class: 'ack-form', 'data-form': 'acknowledge' }, by, comment, submit, err);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = by.value.trim();
      if (!name) {
        err.textContent = 'Say who acknowledges.';
        return;
      }
      localStorage.setItem(NAME_KEY, name);
      submit.disabled = true;
      err.textContent = '';
      acknowledge(a, name, comment.value.trim())
        .then(() => done())
        .catch((e: unknown) => {
          submit.disabled = false;
          err.textContent =
            e instanceof ApiError && e.status === 403
              ? 'This key may not acknowledge alerts; sign in with an admin key.'
              : `Not acknowledged: ${(e as Error).message}`;
        });
    });
    cell.replaceChildren(form);
    by.focus();
  });
  cell.append(open);
  return cell;
}

function historyTab(v: View, rule: string): void {
  const panel = v.panel({
    id: 'alerts-history',
    title: 'History',
    class: 'panel-wide',
    load: (signal) => alertHistory({ ...(rule ? { rule } : {}), limit: 200 }, signal),
    render: (rows) =>
      rows.length === 0
        ? null
        : table(
            'alerts-history',
            rows,
            [
              { head: 'When', cell: (e) => h('span', { title: fmtTime(e.at) }, fmtTime(e.at)) },
              { head: 'Rule', cell: (e) => h('a', { href: hrefOf('alerts', { tab: 'history', rule: e.rule }) }, e.rule) },
              { head: 'Instance', cell: (e) => labelChips(e.labels) },
              {
                head: 'Change',
                cell: (e) =>
                  e.from === e.to
                    ? h('span', null, e.detail ?? e.to)
                    : [badge(e.from, stateTone[e.from] ?? 'info'), ' → ', badge(e.to, stateTone[e.to] ?? 'info')],
              },
              { head: 'Severity', cell: (e) => badge(e.severity, e.severity.toLowerCase()) },
              { head: 'Value', cell: (e) => fmtNum(e.value, 2), class: 'num' },
            ],
            (e) => ({ 'data-history': String(e.id) }),
          ),
    empty: { message: 'No alert history yet' },
  });
  v.root.append(panel.el);
}

function silencesTab(v: View): void {
  const matchers = h('input', { name: 'matchers', placeholder: 'alertname="HighCpuUsage", host="web-1"', required: true, 'aria-label': 'Matchers' });
  const hours = h(
    'select',
    { name: 'hours', 'aria-label': 'Duration' },
    ...['1', '4', '24', '168'].map((x) => h('option', { value: x }, x === '168' ? '1 week' : `${x} h`)),
  );
  const by = h('input', { name: 'by', placeholder: 'your name', required: true, value: localStorage.getItem(NAME_KEY) ?? '', 'aria-label': 'Created by' });
  const comment = h('input', { name: 'comment', placeholder: 'why (ticket, reason)', required: true, 'aria-label': 'Comment' });
  const err = h('div', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'silence-form', 'data-form': 'silence' },
    matchers,
    hours,
    by,
    comment,
    h('button', { class: 'btn btn-small btn-primary', type: 'submit' }, 'Silence'),
    err,
  );
  const panel = v.panel({
    id: 'alerts-silences',
    title: 'Silences',
    class: 'panel-wide',
    actions: [],
    load: (signal) => silences(signal),
    render: (list) =>
      list.length === 0
        ? null
        : table(
            'silences',
            list,
            [
              { head: 'State', cell: (s) => badge(s.state, s.state === 'active' ? 'warning' : s.state === 'pending' ? 'info' : 'ok') },
              {
                head: 'Matchers',
                cell: (s) =>
                  h(
                    'code',
                    null,
                    s.matchers
                      .map((m) => (typeof m === 'string' ? m : `${(m as { name: string }).name}${(m as { op: string }).op}"${(m as { value: string }).value}"`))
                      .join(', '),
                  ),
              },
              { head: 'From', cell: (s) => fmtTime(s.startsAt) },
              { head: 'Until', cell: (s) => fmtTime(s.endsAt) },
              { head: 'By', cell: (s) => s.createdBy },
              { head: 'Comment', cell: (s) => s.comment },
            ],
            (s) => ({ 'data-silence': s.id, 'data-state': s.state }),
          ),
    empty: { message: 'No silences', hint: 'A silence mutes notifications of matching alerts for a while; the alerts stay listed as active.' },
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const list = matchers.value
      .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
      .map((m) => m.trim())
      .filter(Boolean);
    localStorage.setItem(NAME_KEY, by.value.trim());
    err.textContent = '';
    createSilence({
      matchers: list,
      ends_at: new Date(Date.now() + Number(hours.value) * 3_600_000).toISOString(),
      created_by: by.value.trim(),
      comment: comment.value.trim(),
    })
      .then(() => {
        matchers.value = '';
        comment.value = '';
        void panel.reload();
      })
      .catch((e: unknown) => {
        err.textContent =
          e instanceof ApiError && e.status === 403 ? 'This key may not create silences; sign in with an admin key.' : `Not created: ${(e as Error).message}`;
      });
  });
  v.root.append(h('section', { class: 'panel panel-controls' }, h('h2', null, 'New silence'), form), panel.el);
}

function rulesTab(v: View, selected: string): void {
  const win = pick(v.params, 'window', WINDOWS, '6h');
  const list = v.panel({
    id: 'alerts-rules',
    title: 'Rules',
    class: 'panel-wide',
    load: async (signal) => {
      const [rs, active] = await Promise.all([rules(signal), activeAlerts(signal)]);
      return { rs, active };
    },
    render: ({ rs, active }) =>
      rs.length === 0
        ? null
        : table(
            'alert-rules',
            rs,
            [
              {
                head: 'Rule',
                cell: (r: StoredRule) =>
                  h('a', { href: hrefOf('alerts', { tab: 'rules', rule: r.name, window: win === '6h' ? null : win }), 'data-action': 'preview' }, r.name),
              },
              { head: 'Source', cell: (r) => r.source },
              { head: 'Enabled', cell: (r) => (r.enabled ? badge('on', 'ok') : badge('off', 'info')) },
              { head: 'Every', cell: (r) => String(r.spec.interval ?? '1m') },
              { head: 'Severity', cell: (r) => badge(r.spec.severity ?? 'WARNING', (r.spec.severity ?? 'WARNING').toLowerCase()) },
              { head: 'Active', cell: (r) => fmtInt(active.filter((a) => a.rule === r.name).length), class: 'num' },
              { head: 'Description', cell: (r) => h('span', { class: 'muted' }, r.spec.description ?? '') },
            ],
            (r) => ({ 'data-rule': r.name, ...(r.name === selected ? { class: 'selected' } : {}) }),
          ),
    empty: {
      message: 'No alert rules',
      hint: h(
        'span',
        null,
        'Add rule files (ALERTING_RULES_DIR), turn on built-ins (ALERTING_BUILTIN_RULES), or create rules through the API; see docs/alerting.md.',
      ),
    },
  });
  v.root.append(list.el);
  if (!selected) return;
  const winSel = h('select', { name: 'window', 'aria-label': 'Preview window' }, ...WINDOWS.map((w) => h('option', { value: w }, `Last ${w}`)));
  winSel.value = win;
  winSel.addEventListener('change', () => v.go(withParams(v.params, { window: winSel.value === '6h' ? null : winSel.value })));
  const pv = v.panel({
    id: 'rule-preview',
    title: `Preview: ${selected}`,
    class: 'panel-wide',
    actions: [winSel],
    load: async (signal) => {
      const all = await rules(signal);
      const r = all.find((x) => x.name === selected);
      const interval = durationMs(r?.spec.interval) ?? 60_000;
      const to = new Date();
      const from = new Date(to.getTime() - WINDOW_MS[win]);
      // About 120 evaluations whatever the window: each is one run of the rule's SQL.
      const step = Math.max(interval, Math.ceil(WINDOW_MS[win] / 120 / 1000) * 1000);
      return { rule: r, result: await preview(selected, from, to, step, signal) };
    },
    render: ({ rule, result }) => {
      const { xs, series } = previewSeries(result, (rule?.spec as { labels?: Record<string, string> } | undefined)?.labels ?? {});
      const fired = result.episodes.filter((e) => e.firedAt).length;
      return h(
        'div',
        null,
        rule?.spec.description ? h('p', { class: 'muted' }, rule.spec.description) : null,
        h(
          'div',
          { class: 'stats' },
          stat('preview.evaluations', 'Evaluations', result.evaluations, fmtInt(result.evaluations), { hint: `every ${fmtNum(result.stepMs / 1000, 0)} s` }),
          stat('preview.episodes', 'Would have fired', fired, fmtInt(fired), { tone: fired ? 'warn' : 'good' }),
          stat('preview.errors', 'Errors', result.errors.length, fmtInt(result.errors.length), { tone: result.errors.length ? 'bad' : '' }),
        ),
        series.length
          ? timeChart({ id: 'rule-preview', xs, series, stepped: true, yRange: [0, 2.2], yLabels: { 0: 'ok', 1: 'pending', 2: 'firing' }, height: 200 })
          : h('p', { class: 'muted', 'data-preview-empty': '' }, `The rule would not have gone pending in the last ${win}.`),
        result.errors.length ? h('p', { class: 'form-error' }, `First error at ${fmtTime(result.errors[0]!.at)}: ${result.errors[0]!.message}`) : null,
        result.warnings.length ? h('p', { class: 'muted small' }, result.warnings.join(' ')) : null,
        rule?.spec.sql ? h('details', null, h('summary', null, 'SQL'), h('pre', { class: 'sql' }, rule.spec.sql)) : null,
      );
    },
    emptyOnError: (e) => (e.status === 404 ? { message: `No rule ${selected} in this project` } : null),
  });
  v.root.append(pv.el);
}
