import { fastWireEvent, wireEvent } from '../src';

const valid = {
  event_id: '0b0e9f6c-9a4c-4d0e-9d36-1f2b8b4c0a11',
  name: 'page_view',
  timestamp: '2026-11-22T10:00:00Z',
  sent_at: 1795000000000,
  session_id: 's',
  distinct_id: 'd',
  user_id: 'u',
  anonymous_id: 'a',
  properties: { a: 1, b: 'x', nested: { c: [1, 2] } },
  context: { product: 'p', channel: 'c', os: 'o', app_version: '1', user_agent: 'ua', extra: 1 },
  project_id: 'p1',
};

const wrongValues: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  '',
  'x',
  'x'.repeat(65),
  'x'.repeat(201),
  'x'.repeat(257),
  'x'.repeat(1025),
  true,
  [],
  ['a'],
  {},
  { a: 1 },
  '00000000-0000-0000-0000-000000000000',
  '0b0e9f6c-9a4c-0d0e-9d36-1f2b8b4c0a11',
  '0B0E9F6C-9A4C-4D0E-9D36-1F2B8B4C0A11',
];

/** Every valid event with one field (or one context field) replaced by each odd value. */
function corpus(): unknown[] {
  const out: unknown[] = [valid, { name: 'minimal' }, null, [], 'str', 7, { name: 'x', properties: { ['k'.repeat(201)]: 1 } }];
  for (const key of Object.keys(valid)) for (const v of wrongValues) out.push({ ...valid, [key]: v });
  for (const key of Object.keys(valid.context)) for (const v of wrongValues) out.push({ ...valid, context: { ...valid.context, [key]: v } });
  return out;
}

test('the fast path accepts only what the zod schema accepts', () => {
  let fastAccepted = 0;
  for (const x of corpus()) {
    if (fastWireEvent(x) !== undefined) {
      fastAccepted++;
      expect({ input: x, zod: wireEvent.safeParse(x).success }).toEqual({ input: x, zod: true });
    }
  }
  // The common valid shapes do take the fast path.
  expect(fastWireEvent(valid)).toBeDefined();
  expect(fastWireEvent({ name: 'minimal' })).toBeDefined();
  expect(fastAccepted).toBeGreaterThan(50);
});
