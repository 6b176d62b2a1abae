/**
 * The dashboard shell: sign-in, navigation, and the page of the current
 * fragment. Pages live in src/pages; each reads the public API only.
 */
import './styles.css';
import { api, AM, ApiError, setUnauthorizedHandler } from './api';
import { captureKeyFromHash, clearKey, getKey, setKey } from './auth';
import { sweepCharts } from './chart';
import { clear, emptyState, h } from './dom';
import { alertsPage } from './pages/alerts';
import { businessPage } from './pages/business';
import { eventsPage } from './pages/events';
import { healthPage } from './pages/health';
import { metricsPage } from './pages/metrics';
import { overviewPage } from './pages/overview';
import { hrefOf, PAGE_TITLES, PAGES, parseHash, type Page } from './router';
import { createView, type View } from './view';

const PAGE_FNS: Record<Page, (v: View) => void> = {
  overview: overviewPage,
  events: eventsPage,
  metrics: metricsPage,
  business: businessPage,
  health: healthPage,
  alerts: alertsPage,
};

const app = document.getElementById('app')!;
let current: { view: View; leave: () => void } | null = null;
let loginMessage = '';

function leaveCurrent(): void {
  current?.leave();
  current = null;
}

function showLogin(message = ''): void {
  leaveCurrent();
  clear(app);
  app.dataset.state = 'login';
  document.title = 'Sign in · Tidemark';
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'tm_read_…',
    required: true,
  });
  const error = h('p', { class: 'login-error', role: 'alert' }, message);
  const button = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login', 'data-form': 'login' },
    h('h1', null, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Tidemark'),
    h(
      'p',
      null,
      'Sign in with an API key of your project (role read or admin). ',
      h('code', null, 'tidemark start'),
      ' prints a link that signs in directly; ',
      h('code', null, 'tidemark keys create --project <id> --key-role read'),
      ' makes a key.',
    ),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    error,
    button,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    error.textContent = 'Checking the key…';
    // Any read route proves the key: 401 unknown/revoked, 403 a role that may not read (an ingest key).
    api(`${AM}/realtime/overview`, { key })
      .then(() => {
        setKey(key);
        loginMessage = '';
        render();
      })
      .catch((err: unknown) => {
        button.disabled = false;
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? 'The API does not know this key (or it was revoked).'
            : err instanceof ApiError && err.status === 403
              ? 'This key may not read data (an ingest key?). Use a read or admin key.'
              : `Could not check the key: ${(err as Error).message}`;
      });
  });
  app.append(h('main', { class: 'login-page' }, form));
  input.focus();
}

function nav(active: Page | null): HTMLElement {
  return h(
    'nav',
    { class: 'nav', 'aria-label': 'Pages' },
    ...PAGES.map((p) => h('a', { href: hrefOf(p), class: 'nav-link', 'data-nav': p, ...(p === active ? { 'aria-current': 'page' } : {}) }, PAGE_TITLES[p])),
  );
}

function render(): void {
  if (!getKey()) {
    showLogin(loginMessage);
    return;
  }
  const route = parseHash(location.hash);
  leaveCurrent();
  clear(app);
  const page = route.page === 'not-found' ? null : route.page;
  const main = h('main', { class: 'content', id: 'content', 'data-page': route.page });
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: hrefOf('overview') }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Tidemark'),
    nav(page),
    h(
      'div',
      { class: 'topbar-actions' },
      h(
        'button',
        { class: 'btn btn-small', type: 'button', 'data-action': 'refresh', title: 'Reload every panel', onclick: () => current?.view.refreshAll() },
        'Refresh',
      ),
      h(
        'button',
        {
          class: 'btn btn-small btn-quiet',
          type: 'button',
          'data-action': 'sign-out',
          onclick: () => {
            clearKey();
            render();
          },
        },
        'Sign out',
      ),
    ),
  );
  app.append(header, main);
  app.dataset.state = 'ready';
  if (!page) {
    document.title = 'Not found · Tidemark';
    main.append(
      h(
        'section',
        { class: 'panel', 'data-panel': 'not-found', 'data-state': 'empty' },
        emptyState(`There is no page "${route.path}"`, h('a', { href: hrefOf('overview') }, 'Go to the overview')),
      ),
    );
    return;
  }
  document.title = `${PAGE_TITLES[page]} · Tidemark`;
  current = createView(page, main, route.params);
  PAGE_FNS[page](current.view);
  sweepCharts();
}

function boot(): void {
  const { key, hash } = captureKeyFromHash(location.hash);
  if (key) {
    setKey(key);
    // The key leaves the address bar (and the history entry) at once.
    history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  }
  setUnauthorizedHandler(() => {
    // Panels load in parallel: the first 401 signs out, the others find no key and leave the form alone.
    if (!getKey()) return;
    clearKey();
    loginMessage = 'The API refused the saved key (unknown or revoked). Sign in again.';
    render();
  });
  window.addEventListener('hashchange', () => {
    const c = captureKeyFromHash(location.hash);
    if (c.key) {
      setKey(c.key);
      history.replaceState(null, '', `${location.pathname}${location.search}${c.hash}`);
    }
    render();
  });
  render();
}

boot();
