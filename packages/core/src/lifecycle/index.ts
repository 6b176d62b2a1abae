import type { Logger } from 'pino';

export { closeHttpServer, createGracefulServer, ShuttingDownError, type GracefulServerOptions } from './http';

type Hook = { name: string; stop: () => Promise<void> | void; group?: string | undefined };

/**
 * After the overall deadline, each remaining hook still runs, bounded by
 * this: the hooks left are the ones under everything else (the embedded
 * engines, the sinks), and skipping them loses their clean stop (PGlite's
 * checkpoint, chDB's close; a process leaving with chDB open can crash on
 * exit).
 */
const LATE_HOOK_MS = 1_000;

/**
 * Hooks stopped before the drain get at most this long together: they are
 * the process's own producers finishing their last sends, and the servers'
 * drain (the point of a fast stop) waits for them.
 */
const BEFORE_DRAIN_MS = 1_000;

/** Hooks in stop order, neighbours of one group together. */
function batches(hooks: Hook[]): Hook[][] {
  const out: Hook[][] = [];
  for (const hook of hooks) {
    const last = out[out.length - 1];
    if (hook.group !== undefined && last?.[0]?.group === hook.group) last.push(hook);
    else out.push([hook]);
  }
  return out;
}

/**
 * Graceful shutdown in three phases:
 *
 * 0. Before the drain: hooks moved there with `stopBeforeDrain` (producers
 *    in this process that send through its own servers, like the monitor,
 *    whose last samples would otherwise meet a refusing collector), in
 *    reverse order, together bounded by 1 s.
 * 1. Drain: every drain hook runs at once, together, the moment stop begins.
 *    HTTP servers use it to stop taking requests (503 with
 *    `Connection: close`) while in-flight ones finish, so no server keeps
 *    accepting work while the hooks before it are being stopped.
 * 2. Stop: the stop hooks run in reverse order of registration (last
 *    started, first stopped), so a server has stopped before the engine
 *    under it closes; neighbours of one `group` together. One hook failing or hanging does not keep the others
 *    from running; the whole shutdown is bounded by `timeoutMs`, and hooks
 *    still left after it get a short bound each instead of being skipped.
 *
 * Each stopped hook logs one `stopped` line (its name and time taken).
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private readonly drains: Hook[] = [];
  private readonly beforeDrain: Hook[] = [];
  private stopping: Promise<void> | undefined;
  private failed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  /**
   * Registers a stop hook; returns the lifecycle for chaining. Hooks next to
   * each other in stop order with the same `group` stop at the same time
   * (independent components, like the two embedded engines).
   */
  onStop(name: string, stop: Hook['stop'], opts: { group?: string } = {}): this {
    this.hooks.push({ name, stop, group: opts.group });
    return this;
  }

  /**
   * Registers a drain hook: run at the very start of stop(), together with
   * every other drain hook, before any stop hook. It should only stop taking
   * new work and return quickly; waiting for in-flight work belongs in its
   * stop hook. A drain registered while stopping runs at once.
   */
  onDrain(name: string, drain: Hook['stop']): this {
    const hook = { name, stop: drain };
    this.drains.push(hook);
    if (this.stopping) void this.runDrain(hook);
    return this;
  }

  /** Where the stop hooks registered from now on begin: pass it to stopBeforeDrain. */
  mark(): number {
    return this.hooks.length;
  }

  /**
   * Moves the stop hooks registered since `mark` to the phase before the
   * drain: for components of this process that send to its own servers (the
   * monitor, the demo's traffic), so their last sends are still taken.
   */
  stopBeforeDrain(mark: number): this {
    this.beforeDrain.push(...this.hooks.splice(mark));
    return this;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Hooks that failed or overran so far (the process exits non-zero when any did). */
  get failures(): number {
    return this.failed;
  }

  /** Runs every hook once; later calls return the same promise. */
  stop(reason = 'requested'): Promise<void> {
    this.stopping ??= this.runHooks(reason);
    return this.stopping;
  }

  private async runDrain(hook: Hook): Promise<void> {
    try {
      await hook.stop();
    } catch (err) {
      this.failed++;
      this.logger.error({ hook: hook.name, err }, 'drain hook failed');
    }
  }

  private async runHooks(reason: string): Promise<void> {
    const started = Date.now();
    const first = [...this.beforeDrain].reverse();
    const order = [...this.hooks].reverse();
    this.logger.info(
      { reason, hooks: [...first, ...order].map((h) => h.name), beforeDrain: first.map((h) => h.name), drains: this.drains.map((h) => h.name) },
      'shutting down',
    );
    const deadline = started + this.timeoutMs;
    const firstDeadline = Math.min(deadline, started + BEFORE_DRAIN_MS);
    for (const hook of first) await this.runHook(hook, Math.max(0, firstDeadline - Date.now()));
    // Not awaited one by one: every server refuses new work at the same moment.
    await Promise.all(this.drains.map((h) => this.runDrain(h)));
    for (const batch of batches(order)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        this.logger.error({ hooks: batch.map((h) => h.name), boundMs: LATE_HOOK_MS }, 'shutdown deadline passed; running the hook with a short bound');
      await Promise.all(batch.map((hook) => this.runHook(hook, remaining <= 0 ? LATE_HOOK_MS : remaining)));
    }
    this.logger.info({ ms: Date.now() - started, failed: this.failed }, 'shutdown complete');
  }

  /** Runs one stop hook bounded by `boundMs`; logs `stopped` or `stop hook failed`. */
  private async runHook(hook: Hook, boundMs: number): Promise<void> {
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(hook.stop),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not stop within ${boundMs} ms`)), boundMs);
        }),
      ]);
      this.logger.info({ hook: hook.name, ms: Date.now() - t0 }, 'stopped');
    } catch (err) {
      this.failed++;
      this.logger.error({ hook: hook.name, ms: Date.now() - t0, err }, 'stop hook failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SIGINT/SIGTERM start a graceful shutdown and then exit (0, or 1 when a
   * hook failed or overran); a second signal exits at once. For processes
   * (the CLI), never for library code.
   */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    let signalled = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (signalled) {
        this.logger.warn({ signal }, 'second signal: exiting now');
        exit(130);
        return;
      }
      signalled = true;
      void this.stop(signal).then(() => exit(this.failed > 0 ? 1 : 0));
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
}
