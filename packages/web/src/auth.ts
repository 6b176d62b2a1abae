/**
 * The API key the dashboard reads with. It comes from the login form or from
 * a link printed by `tidemark start` (http://host:port/#key=tm_read_...):
 * the fragment never reaches the server, so the key is not written to any
 * access log, and it is removed from the address bar at once. It is kept in
 * localStorage (this origin only) until "Sign out".
 */
const STORAGE_KEY = 'tidemark.apiKey';

export function getKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function setKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key.trim());
}

export function clearKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/**
 * Takes a key out of the fragment: "#key=..." (the printed link) or a "key"
 * parameter of a page's fragment ("#/alerts?tab=active&key=..."). Returns
 * the fragment to continue with, without the key.
 */
export function captureKeyFromHash(hash: string): { key: string | null; hash: string } {
  const raw = hash.replace(/^#/, '');
  if (raw.startsWith('key=')) {
    const params = new URLSearchParams(raw);
    const key = params.get('key');
    params.delete('key');
    const next = params.get('page');
    return { key: key && key.trim() ? key.trim() : null, hash: next ? `#/${next}` : '#/overview' };
  }
  const q = raw.indexOf('?');
  if (q < 0) return { key: null, hash };
  const params = new URLSearchParams(raw.slice(q + 1));
  const key = params.get('key');
  if (!key) return { key: null, hash };
  params.delete('key');
  const rest = params.toString();
  return { key: key.trim(), hash: `#${raw.slice(0, q)}${rest ? `?${rest}` : ''}` };
}
