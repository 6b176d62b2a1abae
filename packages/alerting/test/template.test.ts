import { templateSchema } from '../src/rules/schema';
import { compileTemplate, TemplateError } from '../src/util/template';

describe('templates', () => {
  test('values, nested paths, filters, missing values', () => {
    const t = compileTemplate('CPU {{ value | round:1 }}% on {{ labels.host }} ({{ labels.missing | default:"n/a" }}) {{ name | upper }}');
    expect(t.render({ value: 91.2345, labels: { host: 'web-1' }, name: 'x' })).toBe('CPU 91.2% on web-1 (n/a) X');
    expect(t.render({})).toBe('CPU % on  (n/a) ');
  });

  // The cases of the Handlebars-style language templates used before Liquid, written in Liquid; same data, same output.
  test('for over arrays and objects, with forloop.index0 and scopes; if/else/unless; whitespace control', () => {
    const t = compileTemplate(
      '{% for a in alerts %}{{ forloop.index0 }}:{{ a.rule }}{% if a.isNew %}*{% else %}-{% endif %}{% for l in a.labels %}[{{ l[0] }}={{ l[1] }}]{% endfor %}{{ project }} {%- endfor %}',
    );
    expect(
      t.render({
        project: 'P',
        alerts: [
          { rule: 'a', isNew: true, labels: { h: '1' } },
          { rule: 'b', isNew: false, labels: {} },
        ],
      }),
    ).toBe('0:a*[h=1]P1:b-P');
    expect(compileTemplate('{% unless xs.size > 0 %}none{% endunless %}{% for x in xs %}x{% else %}empty{% endfor %}').render({ xs: [] })).toBe('noneempty');
    expect(compileTemplate('{% if status | eq: "firing" %}F{% endif %}{% if v | gt: 3 %}big{% endif %}').render({ status: 'firing', v: 4 })).toBe('Fbig');
    expect(compileTemplate('{% if status == "firing" %}F{% endif %}{% if v > 3 %}big{% endif %}').render({ status: 'firing', v: 4 })).toBe('Fbig');
  });

  test('escape applies to values only, never to the template text', () => {
    const t = compileTemplate('<b>{{ x }}</b>');
    expect(t.render({ x: '<&>' }, (s) => s.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).toBe('<b>&lt;&&gt;</b>');
  });

  test('json, join, truncate, time', () => {
    expect(
      compileTemplate('{{ o | json }} {{ xs | join:"/" }} {{ s | truncate:4 }} {{ t | time }}').render({
        o: { a: 1 },
        xs: ['a', 'b'],
        s: 'abcdef',
        t: '2026-03-02T10:00:00.000Z',
      }),
    ).toBe('{"a":1} a/b abc… 2026-03-02 10:00:00 UTC');
  });

  test('compile errors name the problem and its position', () => {
    expect(() => compileTemplate('a {{ b')).toThrow(new TemplateError('unclosed "{{" at 2', 2));
    expect(() => compileTemplate('{% for a in x %}y')).toThrow(/\{% for a in x %\} at 0 is never closed/);
    expect(() => compileTemplate('{% if x %}y{% endfor %}')).toThrow(/unexpected \{% endfor %\} at 11/);
    expect(() => compileTemplate('{{ x | shout }}')).toThrow(/unknown filter "shout" at 0/);
    expect(() => compileTemplate('{{ a b }}')).toThrow(/"a b" is not a value/);
    expect(() => compileTemplate('{% loop x %}{% endloop %}')).toThrow(/unknown tag "loop" at 0/);
  });

  test('the Handlebars blocks of the earlier language are compile errors that give the Liquid form', () => {
    expect(() => compileTemplate('{{#each alerts}}x{{/each}}')).toThrow(
      /\{\{#each alerts\}\} is Handlebars; templates are Liquid: write \{% for item in alerts %\}/,
    );
    expect(() => compileTemplate('a{{#if isFiring}}x{{/if}}')).toThrow(/\{\{#if isFiring\}\} is Handlebars; .*\{% if isFiring %\}…\{% endif %\} at 1/);
    expect(() => compileTemplate('{{ x ~}}')).toThrow(/whitespace control in Liquid is \{\{- x -\}\}/);
  });

  test('sandbox: no file access, bounded render time, escape cannot be skipped', () => {
    for (const tag of ['{% include "/etc/passwd" %}', '{% render "package.json" %}', '{% layout "x" %}'])
      expect(() => compileTemplate(tag)).toThrow(/is not available in notification templates/);
    const started = Date.now();
    const out = compileTemplate('{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}').render({});
    expect(Date.now() - started).toBeLessThan(2000);
    expect(out).toMatch(/^\[template not rendered: .*(template render|memory alloc) limit exceeded/);
    expect(compileTemplate('{{ x | raw }}').render({ x: '<' }, (s) => s.replace(/</g, '&lt;'))).toBe('&lt;');
  });

  test('rendering never throws: odd data renders as text', () => {
    const t = compileTemplate('{{ a }}|{{ a.b.c }}|{{ n | round: 2 }}|{{ o }}|{{ xs | join }}');
    expect(t.render({ a: null, n: 'x', o: { k: [1] }, xs: [1, 'b'] })).toBe('||x|{"k":[1]}|1, b');
    expect(t.render(null)).toBe('||||');
    expect(compileTemplate('{{ __proto__ }}{{ constructor.name }}{{ x.constructor }}').render({ x: {} })).toBe('');
  });

  test('an unknown filter fails rule validation at its field', () => {
    const r = templateSchema.safeParse('CPU {{ value | rnd: 1 }}');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/^invalid template: unknown filter "rnd" at 4; filters: Liquid's standard ones and round, upper/);
    expect(templateSchema.safeParse('CPU {{ value | round: 1 }}% on {{ labels.host | upcase }}').success).toBe(true);
  });
});
