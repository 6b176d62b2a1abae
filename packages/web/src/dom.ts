/**
 * A few DOM helpers instead of a framework: the dashboard is six pages of
 * panels that load JSON and draw it, which plain elements do well.
 */
import { ApiError } from './api';
import { STAT_DEFINITIONS } from './definitions';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

/** Creates an element: h('a', { href: '#/x', class: 'link', onclick: fn }, 'text', child). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else if (k === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

/**
 * A figure with its label. data-stat names it and data-value holds the raw
 * number from the API, so tests (and people with devtools) can compare what
 * is shown with what the API said without parsing formatted text.
 */
/**
 * A figure. `definition` is the one-line definition docs/api.md gives it,
 * shown on hover (title) so nobody has to guess what is counted.
 */
export function stat(
  id: string,
  label: string,
  value: number | null | undefined,
  text: string,
  opts: { hint?: string; tone?: 'good' | 'bad' | 'warn' | ''; definition?: string; partial?: boolean } = {},
): HTMLElement {
  return h(
    'div',
    {
      class: `stat${opts.tone ? ` tone-${opts.tone}` : ''}${opts.partial ? ' stat-partial' : ''}`,
      'data-stat': id,
      'data-value': value === null || value === undefined ? '' : String(value),
      ...((opts.definition ?? STAT_DEFINITIONS[id]) ? { title: opts.definition ?? STAT_DEFINITIONS[id] } : {}),
      ...(opts.partial ? { 'data-partial': 'true' } : {}),
    },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, text),
    opts.hint ? h('div', { class: 'stat-hint' }, opts.hint) : null,
  );
}

export function loadingState(what = 'Loading'): HTMLElement {
  return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `${what}…`);
}

export function emptyState(message: string, hint?: Child): HTMLElement {
  return h('div', { class: 'state state-empty' }, h('div', { class: 'state-title' }, message), hint ? h('div', { class: 'state-hint' }, hint) : null);
}

export function errorState(err: unknown, retry?: () => void): HTMLElement {
  const e = err instanceof ApiError ? err : null;
  const message = err instanceof Error ? err.message : String(err);
  const title =
    e?.status === 0
      ? 'The API cannot be reached'
      : e?.status === 403
        ? 'This key may not read this'
        : e && e.status >= 500
          ? 'The API failed to answer'
          : 'Could not load this';
  return h(
    'div',
    { class: 'state state-error', role: 'alert' },
    h('div', { class: 'state-title' }, title),
    h('div', { class: 'state-hint' }, e ? h('code', null, e.code) : null, ' ', message),
    retry ? h('button', { class: 'btn btn-small', type: 'button', onclick: () => retry() }, e?.retriable === false ? 'Try again' : 'Retry') : null,
  );
}

export interface PanelOptions<T> {
  /** data-panel attribute: names the panel for tests and styling. */
  id: string;
  title?: string;
  /** Extra elements in the panel's header (links, small controls). */
  actions?: Child[];
  class?: string;
  load: (signal: AbortSignal) => Promise<T>;
  /** The content for the data, or null when there is nothing to show (the empty state). */
  render: (data: T) => Node | null;
  /** Message (and hint) of the empty state. */
  empty?: { message: string; hint?: Child } | ((data: T | undefined) => { message: string; hint?: Child });
  /** Some errors mean "no data yet" rather than failure (404 BUSINESS_DATA_MISSING): they show the empty state with this text. */
  emptyOnError?: (err: ApiError) => { message: string; hint?: Child } | null;
}

/**
 * A card that loads its data and shows one of four states, reflected in
 * data-state: loading, ready, empty, error. A reload keeps the current
 * content on screen until the new answer is there (no flicker on refresh).
 */
export class Panel<T> {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private seq = 0;

  constructor(
    private readonly opts: PanelOptions<T>,
    private readonly signal: AbortSignal,
  ) {
    this.body = h('div', { class: 'panel-body' });
    this.el = h(
      'section',
      { class: `panel ${opts.class ?? ''}`.trim(), 'data-panel': opts.id, 'data-state': 'loading' },
      opts.title || opts.actions
        ? h('header', { class: 'panel-head' }, opts.title ? h('h2', null, opts.title) : null, h('div', { class: 'panel-actions' }, ...(opts.actions ?? [])))
        : null,
      this.body,
    );
    this.body.append(loadingState());
  }

  async reload(): Promise<void> {
    const seq = ++this.seq;
    const first = this.el.dataset.state === 'loading';
    if (!first) this.el.dataset.refreshing = '1';
    try {
      const data = await this.opts.load(this.signal);
      if (seq !== this.seq || this.signal.aborted) return;
      const node = this.opts.render(data);
      clear(this.body);
      if (node) {
        this.body.append(node);
        this.el.dataset.state = 'ready';
      } else {
        const e = typeof this.opts.empty === 'function' ? this.opts.empty(data) : (this.opts.empty ?? { message: 'No data in this range yet' });
        this.body.append(emptyState(e.message, e.hint));
        this.el.dataset.state = 'empty';
      }
    } catch (err) {
      if (seq !== this.seq || this.signal.aborted || (err as Error).name === 'AbortError') return;
      clear(this.body);
      const asEmpty = err instanceof ApiError ? this.opts.emptyOnError?.(err) : null;
      if (asEmpty) {
        this.body.append(emptyState(asEmpty.message, asEmpty.hint));
        this.el.dataset.state = 'empty';
      } else {
        this.body.append(errorState(err, () => void this.reload()));
        this.el.dataset.state = 'error';
      }
    } finally {
      if (seq === this.seq) delete this.el.dataset.refreshing;
    }
  }
}

/** A horizontal bar list for categorical breakdowns (top events, orders by status). */
export function barList(id: string, rows: { label: string; value: number; text: string; href?: string; sub?: string }[]): HTMLElement {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h(
    'ol',
    { class: 'bars', 'data-list': id },
    ...rows.map((r) =>
      h(
        'li',
        { 'data-key': r.label, 'data-value': String(r.value) },
        h(
          'div',
          { class: 'bar-label' },
          r.href ? h('a', { href: r.href }, r.label || '(empty)') : r.label || '(empty)',
          r.sub ? h('span', { class: 'bar-sub' }, r.sub) : null,
        ),
        h('div', { class: 'bar-track' }, h('div', { class: 'bar-fill', style: `width:${Math.max(0.5, (r.value / max) * 100).toFixed(2)}%` })),
        h('div', { class: 'bar-value' }, r.text),
      ),
    ),
  );
}

/** A simple table: columns with a header and a cell function. */
export function table<R>(
  id: string,
  rows: R[],
  columns: { head: string; cell: (r: R) => Child | Child[]; class?: string; title?: string }[],
  rowAttrs?: (r: R) => Attrs,
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-table': id },
      h('thead', null, h('tr', null, ...columns.map((c) => h('th', { class: c.class ?? null, scope: 'col', title: c.title ?? null }, c.head)))),
      h(
        'tbody',
        null,
        ...rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : null, ...columns.map((c) => h('td', { class: c.class ?? null, 'data-label': c.head }, c.cell(r))))),
      ),
    ),
  );
}

export function badge(text: string, tone: string): HTMLElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}
