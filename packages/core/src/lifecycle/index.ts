import type { Logger } from 'pino';

type Hook = { name: string; stop: () => Promise<void> | void };

/**
 * Graceful shutdown: components register a stop hook as they start; on
 * shutdown the hooks run in reverse order (last started, first stopped), so a
 * server stops accepting before the engine under it closes. One hook failing
 * or hanging does not keep the others from running; the whole shutdown is
 * bounded by `timeoutMs`.
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Registers a stop hook; returns the lifecycle for chaining. */
  onStop(name: string, stop: Hook['stop']): this {
    this.hooks.push({ name, stop });
    return this;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Runs every hook once; later calls return the same promise. */
  stop(reason = 'requested'): Promise<void> {
    this.stopping ??= this.runHooks(reason);
    return this.stopping;
  }

  private async runHooks(reason: string): Promise<void> {
    this.logger.info({ reason, hooks: this.hooks.length }, 'shutting down');
    const deadline = Date.now() + this.timeoutMs;
    for (const hook of [...this.hooks].reverse()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.logger.error({ hook: hook.name }, 'shutdown deadline passed; skipping remaining hooks');
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(hook.stop),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not stop within ${remaining} ms`)), remaining);
          }),
        ]);
        this.logger.debug({ hook: hook.name }, 'stopped');
      } catch (err) {
        this.logger.error({ hook: hook.name, err }, 'stop hook failed');
      } finally {
        clearTimeout(timer);
      }
    }
    this.logger.info('shutdown complete');
  }

  /**
   * SIGINT/SIGTERM start a graceful shutdown and then exit; a second signal
   * exits at once. For processes (the CLI), never for library code.
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
      void this.stop(signal).then(() => exit(0));
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
}
