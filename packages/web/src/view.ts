/** What a page gets: its URL state, a place to draw, and lifetimes tied to the page being shown. */
import { Panel, type PanelOptions } from './dom';
import { hrefOf, toParams, type Page, type ParamValues } from './router';

export interface View {
  page: Page;
  root: HTMLElement;
  params: URLSearchParams;
  /** Aborted when the page is left: in-flight requests stop, late answers are dropped. */
  signal: AbortSignal;
  onLeave(fn: () => void): void;
  /** Moves to new state of this page (a new history entry, so Back works). */
  go(params: URLSearchParams | ParamValues): void;
  /** Calls fn every ms while the page is shown and the tab is visible. */
  every(ms: number, fn: () => void): void;
  /** A panel bound to this page (aborted when it is left); starts loading at once. */
  panel<T>(opts: PanelOptions<T>): Panel<T>;
  /** Reloads every panel of the page (the header's refresh button). */
  refreshAll(): void;
}

export function createView(page: Page, root: HTMLElement, params: URLSearchParams): { view: View; leave: () => void } {
  const ctl = new AbortController();
  const leaveFns: (() => void)[] = [];
  const panels: Panel<unknown>[] = [];
  const view: View = {
    page,
    root,
    params,
    signal: ctl.signal,
    onLeave: (fn) => leaveFns.push(fn),
    go: (p) => {
      location.hash = hrefOf(page, p instanceof URLSearchParams ? p : toParams(p));
    },
    every: (ms, fn) => {
      const timer = setInterval(() => {
        if (document.visibilityState === 'visible') fn();
      }, ms);
      leaveFns.push(() => clearInterval(timer));
    },
    panel: <T>(opts: PanelOptions<T>) => {
      const p = new Panel<T>(opts, ctl.signal);
      panels.push(p as Panel<unknown>);
      void p.reload();
      return p;
    },
    refreshAll: () => {
      for (const p of panels) void p.reload();
    },
  };
  return {
    view,
    leave: () => {
      ctl.abort();
      for (const fn of leaveFns) fn();
    },
  };
}
