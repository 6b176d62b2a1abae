import crypto from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { AuthenticationError, ForbiddenError, ValidationError } from '../errors';
import { pgExec, pgMaybeOne, pgOne, pgRows } from '../postgres/typed';

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
  await pgExec(pool, 'INSERT INTO projects (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
}

const PROJECT_IDS = { name: 'auth.project_ids', sql: 'SELECT id FROM projects ORDER BY id', row: z.object({ id: z.string() }) };

/** Every project's id (the platform's first start creates "default" when there is none). */
export async function listProjectIds(pool: Pool): Promise<string[]> {
  return (await pgRows(pool, PROJECT_IDS)).map((r) => r.id);
}

/**
 * Issues a key for a project. The plain key is returned once and never
 * stored: only its sha256 and a short prefix (to recognise it in lists).
 */
export async function createApiKey(pool: Pool, opts: { projectId: string; role: ApiKeyRole; description?: string }): Promise<{ id: string; key: string }> {
  const id = crypto.randomUUID();
  const key = `tm_${opts.role}_${crypto.randomBytes(24).toString('base64url')}`;
  await pgExec(pool, 'INSERT INTO api_keys (id, project_id, role, key_hash, key_prefix, description) VALUES ($1, $2, $3, $4, $5, $6)', [
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
  return (await pgExec(pool, 'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL', [keyId, projectIdValue])) > 0;
}

/** The revocation probe: its row changes whenever a key is revoked or deleted. */
const REVOCATION_EPOCH = {
  name: 'auth.revocation_epoch',
  sql: 'SELECT count(*) AS keys, count(revoked_at) AS revoked, max(revoked_at)::text AS last FROM api_keys',
  row: z.object({ keys: z.coerce.number(), revoked: z.coerce.number(), last: z.string().nullable() }),
};
const ACTIVE_KEY = {
  name: 'auth.active_key',
  sql: 'SELECT id, project_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
  row: z.object({ id: z.string(), project_id: z.string(), role: z.enum(API_KEY_ROLES) }),
};

/**
 * Resolves presented keys to their project and role, with an in-process cache
 * so the ingest hot path does not query Postgres per request.
 *
 * Invariant: a key revoked (or deleted) in any process stops working here
 * within `revocationCheckMs`. Every process shares the metadata Postgres, so
 * instead of a per-key TTL long enough to matter, the verifier reads one
 * "revocation epoch" (how many keys exist, how many are revoked, the latest
 * revocation time) at most once per `revocationCheckMs`, and drops the whole
 * cache when it moved. That is one small query per process per interval, and
 * only while keys are being presented; a cache entry also expires after
 * `ttlMs` regardless (new keys are looked up on first use, so no epoch is
 * needed for them).
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { principal: ApiKeyPrincipal | null; until: number }>();
  private epoch: string | undefined;
  private epochCheckedAt = 0;
  private epochCheck: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly opts: { ttlMs?: number; maxEntries?: number; revocationCheckMs?: number } = {},
  ) {}

  /** Drops the cache if any key was revoked or deleted since the last look (shared by concurrent callers). */
  private async checkRevocations(now: number): Promise<void> {
    if (now - this.epochCheckedAt < (this.opts.revocationCheckMs ?? 500)) return;
    this.epochCheck ??= (async () => {
      try {
        const row = await pgOne(this.pool, REVOCATION_EPOCH);
        const epoch = `${row.keys}/${row.revoked}/${row.last ?? ''}`;
        if (epoch !== this.epoch) this.cache.clear();
        this.epoch = epoch;
        this.epochCheckedAt = Date.now();
      } finally {
        this.epochCheck = undefined;
      }
    })();
    await this.epochCheck;
  }

  async verify(key: string | undefined): Promise<ApiKeyPrincipal> {
    if (!key) throw new AuthenticationError('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    if (key.length > 200) throw new AuthenticationError('invalid API key');
    const hash = hashKey(key);
    const now = Date.now();
    await this.checkRevocations(now);
    let hit = this.cache.get(hash);
    if (!hit || hit.until < now) {
      const row = await pgMaybeOne(this.pool, ACTIVE_KEY, [hash]);
      hit = { principal: row ? { keyId: row.id, projectId: row.project_id, role: row.role } : null, until: now + (this.opts.ttlMs ?? 30_000) };
      if (this.cache.size >= (this.opts.maxEntries ?? 10_000)) this.cache.clear();
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
