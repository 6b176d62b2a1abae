import crypto from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { AuthenticationError, ForbiddenError, ValidationError } from '../errors';

/** What a key may do. admin implies read and ingest. */
export const API_KEY_ROLES = ['ingest', 'read', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export interface ApiKeyPrincipal {
  keyId: string;
  projectId: string;
  role: ApiKeyRole;
}

const projectId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63, starting with a letter or digit');

function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

/** Creates a project if it does not exist yet. */
export async function ensureProject(pool: Pool, id: string, name = id): Promise<void> {
  const parsed = projectId.safeParse(id);
  if (!parsed.success) throw new ValidationError(`project id ${JSON.stringify(id)}: ${parsed.error.issues[0]?.message}`);
  await pool.query('INSERT INTO projects (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
}

/**
 * Issues a key for a project. The plain key is returned once and never
 * stored: only its sha256 and a short prefix (to recognise it in lists).
 */
export async function createApiKey(pool: Pool, opts: { projectId: string; role: ApiKeyRole; description?: string }): Promise<{ id: string; key: string }> {
  const id = crypto.randomUUID();
  const key = `tm_${opts.role}_${crypto.randomBytes(24).toString('base64url')}`;
  await pool.query('INSERT INTO api_keys (id, project_id, role, key_hash, key_prefix, description) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    opts.projectId,
    opts.role,
    hashKey(key),
    key.slice(0, 12),
    opts.description ?? '',
  ]);
  return { id, key };
}

export async function revokeApiKey(pool: Pool, projectIdValue: string, keyId: string): Promise<boolean> {
  const r = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL', [keyId, projectIdValue]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * Resolves presented keys to their project and role, with a short in-process
 * cache so the ingest hot path does not query Postgres per request. A revoked
 * key stops working within `ttlMs`.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { principal: ApiKeyPrincipal | null; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(key: string | undefined): Promise<ApiKeyPrincipal> {
    if (!key) throw new AuthenticationError('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    if (key.length > 200) throw new AuthenticationError('invalid API key');
    const hash = hashKey(key);
    const now = Date.now();
    let hit = this.cache.get(hash);
    if (!hit || hit.until < now) {
      const r = await this.pool.query<{ id: string; project_id: string; role: ApiKeyRole }>(
        'SELECT id, project_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      );
      const row = r.rows[0];
      hit = { principal: row ? { keyId: row.id, projectId: row.project_id, role: row.role } : null, until: now + this.ttlMs };
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(hash, hit);
    }
    if (!hit.principal) throw new AuthenticationError('invalid or revoked API key');
    return hit.principal;
  }

  /** Verifies and checks the key's role allows `needed`. */
  async require(key: string | undefined, needed: ApiKeyRole): Promise<ApiKeyPrincipal> {
    const p = await this.verify(key);
    if (p.role !== needed && p.role !== 'admin') {
      throw new ForbiddenError(`this key has role "${p.role}"; "${needed}" is needed`, { context: { role: p.role, needed } });
    }
    return p;
  }
}

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  const a = Array.isArray(auth) ? auth[0] : auth;
  if (a && /^Bearer\s+/i.test(a)) return a.replace(/^Bearer\s+/i, '').trim();
  const x = headers['x-api-key'];
  return (Array.isArray(x) ? x[0] : x)?.trim();
}
