import { z } from 'zod';
import { templateSchema } from '../rules/schema';
import { compileTemplate, type CompiledTemplate } from '../util/template';
import type { Notification, NotificationAlert } from './types';

/** Fields every channel config has. */
export const channelBase = {
  /** How routes refer to the channel. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 of letters, digits, _ . - (starting with a letter or digit)'),
  /** Overrides the channel's message template (docs/alerting.md lists the fields). */
  template: templateSchema.optional(),
};

/**
 * A secret is never written in a rule file, a policy or Postgres: configs
 * hold a `${NAME}` reference, resolved at send time from ALERTING_SECRETS or
 * an ALERTING_* config key.
 */
export const secretRef = z
  .string()
  .regex(
    /^\$\{[A-Z][A-Z0-9_]*\}$/,
    'must be a reference like ${NAME} to a secret in the config (ALERTING_SECRETS or an ALERTING_* key), never the secret itself',
  );

/** Labels shown next to an alert: all but the ones the title already says. */
function labelText(a: NotificationAlert): string {
  return Object.entries(a.labels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function titleOf(n: Notification): string {
  const name = n.groupLabels.alertname ?? n.commonLabels.alertname ?? (n.alerts.length === 1 ? n.alerts[0]?.rule : undefined) ?? 'alerts';
  const rest = Object.entries(n.groupLabels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const head = n.status === 'firing' ? `[FIRING:${n.firingCount}]` : '[RESOLVED]';
  return `${n.isTest ? '[TEST] ' : ''}${head} ${name}${rest ? ` (${rest})` : ''}`;
}

/** The data every template sees: the notification plus ready-made text fields. */
export function messageContext(n: Notification): Record<string, unknown> {
  return {
    ...n,
    title: titleOf(n),
    isFiring: n.status === 'firing',
    isResolved: n.status === 'resolved',
    alerts: n.alerts.map((a) => ({
      ...a,
      isFiring: a.status === 'firing',
      isResolved: a.status === 'resolved',
      labelText: labelText(a),
      valueText: a.value === null || !Number.isFinite(a.value) ? '' : String(Number(a.value.toFixed(2))),
      summary: a.annotations.summary ?? a.annotations.description ?? '',
    })),
  };
}

const cache = new Map<string, CompiledTemplate>();

/** Renders a channel's template (compiled once per text). */
export function render(template: string, n: Notification, escape?: (s: string) => string): string {
  let t = cache.get(template);
  if (!t) {
    t = compileTemplate(template);
    if (cache.size > 1000) cache.clear();
    cache.set(template, t);
  }
  return t.render(messageContext(n), escape);
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > max - 3) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}

/** The plain-text template shared in spirit by the short-message channels. */
export const PLAIN_TEMPLATE = `{{ title }}
{% for a in alerts %}- {{ a.status | upper }} [{{ a.severity }}] {{ a.rule }}{% if a.labelText %} {{ a.labelText }}{% endif %}{% if a.valueText %} value={{ a.valueText }}{% endif %}{% if a.summary %}: {{ a.summary }}{% endif %}
{% endfor %}{% if omitted %}... and {{ omitted }} more
{% endif %}`;

/**
 * A WhatsApp template parameter as Meta accepts it: no newline or tab and no
 * more than 4 consecutive spaces (error 132018 otherwise), so lines are joined
 * with " | " and whitespace runs collapse to one space; cut to `max` characters.
 */
export function templateParam(text: string, max: number): string {
  const one = text
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[\t\v\f\u00a0 ]+/g, ' ').trim())
    .filter((l) => l !== '')
    .join(' | ');
  const chars = [...one];
  return chars.length <= max ? one : `${chars.slice(0, Math.max(0, max - 3)).join('')}...`;
}
