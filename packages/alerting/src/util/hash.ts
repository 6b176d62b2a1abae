import crypto from 'node:crypto';

/** Hex sha256 of the parts joined with a separator no part can contain. */
export function hashParts(...parts: (string | number)[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\u0000');
  return h.digest('hex');
}

/** JSON with object keys sorted, so equal values always hash equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Identity of a label set: independent of key order. */
export function labelsFingerprint(labels: Record<string, string>): string {
  return hashParts(stableJson(labels)).slice(0, 32);
}
