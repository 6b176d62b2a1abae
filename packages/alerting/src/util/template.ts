/**
 * Annotation and channel-message templates are Liquid, rendered by liquidjs
 * (docs/alerting.md, Templates), compiled once and rendered many times:
 *
 *   {{ labels.host }}                 a value (missing values render as "")
 *   {{ value | round: 1 }}            Liquid's filters, with Tidemark's meaning for
 *                                     round upper lower default join json truncate
 *                                     eq ne gt lt time (see FILTERS)
 *   {% if isFiring %}..{% else %}..{% endif %}   {% unless x %}..{% endunless %}
 *   {% for a in alerts %} {{ forloop.index0 }} {{ a.labels.host }} {% endfor %}
 *   {{- x -}}                         trims whitespace next to the tag
 *
 * Sandboxed, since rule files and channel configs come from users: no tag
 * reads a file (include/render/layout are refused when compiling), scope
 * lookups see own properties only, and a render is bounded in time, memory
 * and output length.
 *
 * Invariant: rendering never throws for any data; only compiling does, with
 * the position of the problem. Interpolated values pass through the
 * channel's `escape`, literal template text never does.
 */
import { Context, Liquid, LiquidError, Tag, TokenKind, Tokenizer, type TopLevelToken } from 'liquidjs';

/** liquidjs' OutputToken (a {{ }}), which the package does not export by name. */
type OutputToken = TopLevelToken & { content: string };

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Render bounds: far above what a notification needs (a 100-alert email renders in well under a millisecond). */
const RENDER_LIMIT_MS = 250;
const MEMORY_LIMIT = 10_000_000;
const MAX_OUTPUT_CHARS = 1_000_000;
/** The rule schema caps a template at 10,000 characters; this only bounds a direct compileTemplate call. */
const PARSE_LIMIT = 1_000_000;

/** Register key under which a render passes the channel's escape to the output filter. */
const ESCAPE = 'tidemark:escape';

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

/**
 * Filters whose meaning differs from Liquid's standard ones, kept as rules
 * written before the move to Liquid expect them: round leaves a missing or
 * non-numeric value as it is (Liquid's gives NaN), default replaces only
 * missing/null/"" (with JavaScript truthiness Liquid's would also replace
 * 0), join defaults to ", ", truncate ends with "…" inside the length,
 * json writes null for a missing value; time, upper, lower and the
 * comparisons (for `{% if status | eq: "firing" %}`) are Tidemark's.
 */
const FILTERS: Record<string, (v: unknown, arg?: unknown) => unknown> = {
  round(v, arg) {
    const n = typeof v === 'number' ? v : Number(v);
    if (v === null || v === undefined || v === '' || !Number.isFinite(n)) return v;
    return Number(n.toFixed(typeof arg === 'number' ? Math.min(Math.max(Math.trunc(arg), 0), 20) : 0));
  },
  upper: (v) => (v === undefined || v === null ? v : toText(v).toUpperCase()),
  lower: (v) => (v === undefined || v === null ? v : toText(v).toLowerCase()),
  default: (v, arg) => (v === undefined || v === null || v === '' ? arg : v),
  join: (v, arg) => (Array.isArray(v) ? v.map((x) => toText(x)).join(typeof arg === 'string' ? arg : ', ') : v),
  json: (v) => JSON.stringify(v ?? null),
  truncate(v, arg) {
    const s = toText(v);
    const n = typeof arg === 'number' ? arg : 80;
    return s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s;
  },
  eq: (v, arg) => toText(v) === toText(arg),
  ne: (v, arg) => toText(v) !== toText(arg),
  gt: (v, arg) => Number(v) > Number(arg),
  lt: (v, arg) => Number(v) < Number(arg),
  time(v) {
    const d = typeof v === 'string' || typeof v === 'number' ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : v;
  },
};

const engine = new Liquid({
  // An unknown filter is a compile error, so rule validation reports it.
  strictFilters: true,
  strictVariables: false,
  // '' and 0 are false in conditions ({% if labelText %}, {% if omitted %}), as before.
  jsTruthy: true,
  ownPropertyOnly: true,
  // Template lookups go to this empty map, never to the file system (the tags that would look are refused below too).
  templates: {},
  parseLimit: PARSE_LIMIT,
  renderLimit: RENDER_LIMIT_MS,
  memoryLimit: MEMORY_LIMIT,
  // Every {{ }} value ends here: text as before (objects as JSON, NaN as ""), then the channel's escape.
  outputEscape(this: { context: Context }, v: unknown): string {
    const escape = this.context.getRegister(ESCAPE) as ((s: string) => string) | undefined;
    const s = toText(v);
    return escape ? escape(s) : s;
  },
});
for (const [name, fn] of Object.entries(FILTERS)) engine.registerFilter(name, fn);
// `raw` would skip outputEscape, i.e. the channel's escape: values are always escaped.
engine.registerFilter('raw', (v: unknown) => v);
for (const name of ['include', 'render', 'layout', 'block']) {
  engine.registerTag(
    name,
    class extends Tag {
      constructor(...args: ConstructorParameters<typeof Tag>) {
        super(...args);
        throw new Error(`tag "${name}" is not available in notification templates (a template is self-contained)`);
      }
      *render(): Generator<unknown, void, unknown> {}
    },
  );
}

/** A Handlebars-style tag of the language templates used before Liquid: named in the error with its Liquid form. */
function handlebarsHint(content: string): string | undefined {
  const c = content.trim();
  if (/^#(if|unless)\b/.test(c)) return `{{${c}}} is Handlebars; templates are Liquid: write {% ${c.slice(1)} %}…{% end${c.slice(1).split(/\s/)[0]} %}`;
  if (/^#each\b/.test(c))
    return `{{${c}}} is Handlebars; templates are Liquid: write {% for item in ${c.slice(5).trim()} %}…{% endfor %} and item.field inside`;
  if (/^\//.test(c) || c === 'else')
    return `{{${c}}} is Handlebars; templates are Liquid: close blocks with {% endif %}/{% endunless %}/{% endfor %}, {% else %}`;
  if (/^#/.test(c)) return `unknown block {{${c}}}; templates are Liquid: tags are {% if %}, {% unless %}, {% for %}, {% case %}`;
  if (/^~|~$/.test(c)) return `{{${c}}}: whitespace control in Liquid is {{- x -}}`;
  if (/^@(index|first|last)\b/.test(c)) return `{{${c}}}: inside {% for %} write forloop.index0, forloop.first, forloop.last`;
  return undefined;
}

function position(err: unknown): number {
  return err instanceof LiquidError && err.token ? err.token.begin : 0;
}

/** liquidjs' error as a TemplateError naming the problem and its offset in the template. */
function toTemplateError(err: unknown): TemplateError {
  const pos = position(err);
  const raw = err instanceof LiquidError ? (err.originalError?.message ?? err.message.replace(/, line:\d+, col:\d+$/, '')) : String(err);
  let m: RegExpExecArray | null;
  if ((m = /^output "[\s\S]*" not closed/.exec(raw))) return new TemplateError(`unclosed "{{" at ${pos}`, pos);
  if ((m = /^tag ([\s\S]*) not closed/.exec(raw))) return new TemplateError(`${m[1]} at ${pos} is never closed`, pos);
  if ((m = /^tag "(end\w*|else|elsif|when)" not found/.exec(raw)))
    return new TemplateError(`unexpected {% ${m[1]} %} at ${pos}: no open block it belongs to`, pos);
  if ((m = /^tag "(\w+)" not found/.exec(raw))) return new TemplateError(`unknown tag "${m[1]}" at ${pos}`, pos);
  if ((m = /^undefined filter: (\S+)/.exec(raw))) {
    return new TemplateError(`unknown filter "${m[1]}" at ${pos}; filters: Liquid's standard ones and ${Object.keys(FILTERS).join(', ')}`, pos);
  }
  return new TemplateError(`${raw} at ${pos}`, pos);
}

/**
 * Checks every {{ }} before liquidjs parses the template: a Handlebars tag
 * of the earlier language gets its Liquid form in the error, and two values
 * with no operator between them ({{ a b }}, which liquidjs renders as a
 * alone) are reported rather than hidden.
 */
function checkOutputs(source: string): void {
  for (const tok of new Tokenizer(source).readTopLevelTokens(engine.options)) {
    if (tok.kind !== TokenKind.Output) continue;
    const out = tok as OutputToken;
    const hint = handlebarsHint(out.content);
    if (hint) throw new TemplateError(`${hint} at ${out.begin}`, out.begin);
    const value = new Tokenizer(out.content, engine.options.operators).readFilteredValue();
    const terms = [...value.initial.postfix];
    if (terms.length > 1 && !terms.some((t) => t.kind === TokenKind.Operator)) {
      throw new TemplateError(`"${out.content.trim()}" is not a value with filters (write e.g. labels.host or value | round: 1) at ${out.begin}`, out.begin);
    }
  }
}

export interface CompiledTemplate {
  source: string;
  render(data: unknown, escape?: (s: string) => string): string;
}

/** @throws TemplateError with the position of the first problem. */
export function compileTemplate(source: string): CompiledTemplate {
  let templates: ReturnType<Liquid['parse']>;
  try {
    checkOutputs(source);
    templates = engine.parse(source);
  } catch (err) {
    throw err instanceof TemplateError ? err : toTemplateError(err);
  }
  return {
    source,
    render(data, escape) {
      const ctx = new Context(data !== null && typeof data === 'object' ? data : {}, engine.options, { sync: true }, { liquid: engine });
      if (escape) ctx.setRegister(ESCAPE, escape);
      let out: string;
      try {
        out = engine.renderSync(templates, ctx) as string;
      } catch (err) {
        // A render limit or a filter failing on odd data: the message still goes out, saying why its text is missing.
        return `[template not rendered: ${err instanceof LiquidError ? (err.originalError?.message ?? err.message) : String(err)}]`;
      }
      return out.length > MAX_OUTPUT_CHARS ? `${out.slice(0, MAX_OUTPUT_CHARS - 1)}…` : out;
    },
  };
}
