import crypto from 'node:crypto';

/**
 * When rules run. Each rule has a fixed phase within its interval: a hash
 * of (project, name) when evaluations are spread, 0 otherwise. A rule runs
 * at every instant t with (t - phase) mod interval = 0, whichever replica
 * runs it and however late the previous run finished, so rules loaded
 * together never pile up into one burst and a late run does not shift the
 * cadence.
 */
export function evaluationPhase(projectId: string, name: string, intervalMs: number, spread: boolean): number {
  if (!spread) return 0;
  const h = crypto.createHash('sha256').update(`${projectId}\u0000${name}`).digest();
  return h.readUInt32BE(0) % intervalMs;
}

/** The first slot of the cadence at or after `t` (inclusive) or strictly after it. */
export function nextSlot(t: number, intervalMs: number, phase: number, inclusive: boolean): number {
  const k = Math.floor((t - phase) / intervalMs);
  let slot = k * intervalMs + phase;
  if (slot < t || (!inclusive && slot === t)) slot += intervalMs;
  return slot;
}
