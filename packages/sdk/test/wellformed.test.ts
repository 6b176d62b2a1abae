import { replaceLoneSurrogates } from '@tidemark/collector';
import { wellFormedJson } from '../src/wellformed';

/** The SDK repairs JSON text, the collector repairs parsed values: both must store the same thing. */
const corpus: unknown[] = [
  'plain',
  '\ud800',
  '\udc00',
  'a\ud800b\udc00c',
  '😀',
  '\ud83d\ude00\ud83d',
  '\ude00\ud83d',
  'C:\\udata',
  '\\\ud800',
  '\\\\\ud800',
  'a\u0000b\u001f',
  { ['k\ud800']: ['x\udfff', { y: '\udbff\udfff' }], ok: 1 },
  ['\ud800\ud800\udc00', '\udc00\udc00'],
];

test.each(corpus.map((v) => [JSON.stringify(v), v]))('%s: the SDK stores what the collector would', (_, v) => {
  const fromSdk = JSON.parse(wellFormedJson(JSON.stringify(v))) as unknown;
  expect(fromSdk).toEqual(replaceLoneSurrogates(v, []));
  const left: string[] = [];
  replaceLoneSurrogates(fromSdk, left);
  expect(left).toEqual([]);
});

test('escaped pairs and uppercase escapes from other serialisers; raw lone surrogates', () => {
  expect(JSON.parse(wellFormedJson('["\\uD83D\\uDE00", "\\uD800x", "\\\\uD800"]'))).toEqual(['😀', '\ufffdx', '\\uD800']);
  expect(wellFormedJson('{"a":"\ud800"}')).toBe('{"a":"\ufffd"}');
});

test('well-formed JSON is returned unchanged (same string)', () => {
  const s = JSON.stringify({ name: 'x', properties: { emoji: '😀', path: 'C:\\udata' } });
  expect(wellFormedJson(s)).toBe(s);
});
