import { compileTemplate, TemplateError } from '../src/util/template';

describe('templates', () => {
  test('values, nested paths, filters, missing values', () => {
    const t = compileTemplate('CPU {{ value | round:1 }}% on {{ labels.host }} ({{ labels.missing | default:"n/a" }}) {{ name | upper }}');
    expect(t.render({ value: 91.2345, labels: { host: 'web-1' }, name: 'x' })).toBe('CPU 91.2% on web-1 (n/a) X');
    expect(t.render({})).toBe('CPU % on  (n/a) ');
  });

  test('each over arrays and objects, with @index and scopes; if/else/unless; whitespace control', () => {
    const t = compileTemplate('{{#each alerts}}{{ @index }}:{{ rule }}{{#if isNew}}*{{else}}-{{/if}}{{#each labels}}[{{ key }}={{ value }}]{{/each}}{{ project }} {{~/each}}');
    expect(t.render({ project: 'P', alerts: [{ rule: 'a', isNew: true, labels: { h: '1' } }, { rule: 'b', isNew: false, labels: {} }] })).toBe('0:a*[h=1]P1:b-P');
    expect(compileTemplate('{{#unless xs}}none{{/unless}}{{#each xs}}x{{else}}empty{{/each}}').render({ xs: [] })).toBe('noneempty');
    expect(compileTemplate('{{#if status | eq:"firing"}}F{{/if}}{{#if v | gt:3}}big{{/if}}').render({ status: 'firing', v: 4 })).toBe('Fbig');
  });

  test('escape applies to values only, never to the template text', () => {
    const t = compileTemplate('<b>{{ x }}</b>');
    expect(t.render({ x: '<&>' }, (s) => s.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).toBe('<b>&lt;&&gt;</b>');
  });

  test('json, join, truncate, time', () => {
    expect(compileTemplate('{{ o | json }} {{ xs | join:"/" }} {{ s | truncate:4 }} {{ t | time }}').render({ o: { a: 1 }, xs: ['a', 'b'], s: 'abcdef', t: '2026-03-02T10:00:00.000Z' })).toBe(
      '{"a":1} a/b abc… 2026-03-02 10:00:00 UTC',
    );
  });

  test('compile errors name the problem and its position', () => {
    expect(() => compileTemplate('a {{ b')).toThrow(new TemplateError('unclosed "{{" at 2', 2));
    expect(() => compileTemplate('{{#each x}}y')).toThrow(/\{\{#each\}\} is never closed/);
    expect(() => compileTemplate('{{#if x}}y{{/each}}')).toThrow(/expected \{\{\/if\}\} but found \{\{\/each\}\} at 10/);
    expect(() => compileTemplate('{{ x | shout }}')).toThrow(/unknown filter "shout" at 0/);
    expect(() => compileTemplate('{{ a b }}')).toThrow(/"a b" is not a value path/);
    expect(() => compileTemplate('{{#loop x}}{{/loop}}')).toThrow(/unknown block/);
  });
});
