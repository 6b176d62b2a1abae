import crypto from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '@tidemark/core';
import type { Engine, EngineHolder } from './engine';
import {
  backend,
  CANCEL_REQUEST_CODE,
  FrameReader,
  frontend,
  GSSENC_REQUEST_CODE,
  MSG,
  parseStartup,
  PROTOCOL_MAJOR_3,
  ProtocolViolation,
  scanOutput,
  spliceMessage,
  SSL_REQUEST_CODE,
  statementNameRange,
} from './protocol';
import { SCRAM_MECHANISM, ScramExchange, ScramProtocolError, type ScramVerifier } from './scram';

export interface SessionOptions {
  id: number;
  socket: Socket;
  engine: Engine;
  log: Logger;
  /** Largest frontend message accepted. */
  maxMessageBytes: number;
  /** How long a session may hold the engine idle (in a transaction) while others wait; 0 = forever. */
  idleInTransactionTimeoutMs: number;
  /** The only database name served (PGlite has one database). */
  database: string;
  /** The one user, and the SCRAM-SHA-256 verifier of its password. */
  auth: { user: string; verifier: ScramVerifier };
  /** How long a client may take from connecting to being authenticated (ms). */
  authTimeoutMs?: number;
}

type Phase = 'startup' | 'auth' | 'ready' | 'closed';

/** The startup state kept while SCRAM runs. */
interface PendingAuth {
  user: string;
  applicationName: string;
  negotiate: Buffer | undefined;
  exchange: ScramExchange;
  step: 'initial' | 'final';
}

/**
 * One client connection. It speaks the wire protocol with the client itself
 * during startup (SCRAM-SHA-256 authentication of the one user, parameters
 * replayed from the engine)
 * and afterwards forwards the client's messages to the shared engine while it
 * holds the engine lock.
 *
 * Holding rule: the session takes the engine when it has messages to run and
 * keeps it until the engine's output ends in ReadyForQuery 'I' and the client
 * has nothing more queued. So a transaction block (BEGIN ... COMMIT), an
 * extended-protocol batch (Parse ... Sync) and a COPY each run with no other
 * client's message in between; outside those, sessions interleave statement
 * by statement.
 */
/** Constant-time user name comparison. */
function sameUser(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export class ClientSession implements EngineHolder {
  readonly id: number;
  private readonly socket: Socket;
  private readonly engine: Engine;
  private readonly log: Logger;
  private readonly reader: FrameReader;
  private readonly opts: SessionOptions;
  private phase: Phase = 'startup';
  private authState: PendingAuth | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  /** Frontend messages received and not yet run, already renamed. */
  private pending: Buffer[] = [];
  private pumping = false;
  /** The client sent Terminate: run what it sent before, then close. */
  private terminating = false;
  private holding = false;
  /** Engine state after this session's last run (meaningful while holding). */
  private atBoundary = true;
  private txStatus: 'I' | 'T' | 'E' = 'I';
  private lastType = 0;
  /** Prepared statements this session created on the engine, under their engine-side names. */
  private readonly statements = new Set<string>();
  private readonly statementPrefix: string;
  private idleTimer: NodeJS.Timeout | undefined;
  private finishing: Promise<void> | undefined;
  private resolveDone!: () => void;
  /** Resolves once the session is closed and everything it left on the engine is cleaned up. */
  readonly done: Promise<void>;

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.socket = opts.socket;
    this.engine = opts.engine;
    this.log = opts.log;
    this.reader = new FrameReader(opts.maxMessageBytes);
    this.statementPrefix = `tm${opts.id}_`;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.log.debug({ err }, 'client socket error'));
    this.socket.on('close', () => this.onClose());
    // A connection that never authenticates does not keep a connection slot.
    this.authTimer = setTimeout(() => {
      if (this.phase === 'startup' || this.phase === 'auth') this.terminate('08006', 'authentication timed out');
    }, opts.authTimeoutMs ?? 30_000);
    this.authTimer.unref();
  }

  /** Ends the session from the server side with a FATAL error the client can read. */
  terminate(code: string, text: string): void {
    if (this.phase === 'closed') return;
    this.log.debug({ code, reason: text }, 'terminating client session');
    this.socket.end(backend.error('FATAL', code, text));
    // end() flushes the error; destroy soon after so a client that does not
    // close its side cannot keep the session (and possibly the engine).
    setTimeout(() => this.socket.destroy(), 100).unref();
    this.onClose();
  }

  onContention(): void {
    if (this.holding && !this.pumping && this.phase === 'ready') this.armIdleTimer();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed' || this.terminating) return;
    this.reader.push(chunk);
    try {
      if (this.phase === 'startup') this.readStartup();
      if (this.phase === 'auth') this.readAuth();
      if (this.phase !== 'ready') return;
      let msg: Buffer | undefined;
      while ((msg = this.reader.nextTyped()) !== undefined) {
        if (msg[0] === MSG.Terminate) {
          // As a backend does, finish what came before it (e.g. a COMMIT
          // pipelined ahead of Terminate), then close.
          this.terminating = true;
          break;
        }
        this.pending.push(this.rename(msg));
      }
    } catch (err) {
      if (err instanceof ProtocolViolation || err instanceof ScramProtocolError) {
        this.terminate('08P01', err.message);
        return;
      }
      throw err;
    }
    if (this.pending.length > 0) void this.pump();
    else if (this.terminating && !this.pumping) this.endByClient();
  }

  private endByClient(): void {
    this.socket.end();
    this.onClose();
  }

  /** Handles untyped packets until a StartupMessage moves the session to 'ready' (or closes it). */
  private readStartup(): void {
    let packet: Buffer | undefined;
    while (this.phase === 'startup' && (packet = this.reader.nextUntyped()) !== undefined) {
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
        // Loopback only: no TLS, no GSS. 'N' tells the client to go on in plain text.
        this.socket.write('N');
        continue;
      }
      if (code === CANCEL_REQUEST_CODE) {
        // A statement runs synchronously inside the engine and cannot be
        // interrupted, so a cancel has nothing to act on. Postgres answers a
        // cancel request by closing the connection; so do we.
        this.log.debug('cancel request ignored');
        this.socket.end();
        this.onClose();
        return;
      }
      const startup = parseStartup(packet);
      if (startup.major !== PROTOCOL_MAJOR_3) {
        this.terminate('0A000', `unsupported frontend protocol ${startup.major}.${startup.minor}: server supports 3.0`);
        return;
      }
      const database = startup.params.database ?? startup.params.user ?? 'postgres';
      if (database !== this.opts.database) {
        this.terminate('3D000', `database "${database}" does not exist`);
        return;
      }
      const unrecognized = Object.keys(startup.params).filter((k) => k.startsWith('_pq_.'));
      const negotiate = startup.minor > 0 || unrecognized.length > 0 ? backend.negotiateProtocolVersion(0, unrecognized) : undefined;
      // Every user goes through the same exchange (an unknown one against the
      // real verifier, so it fails at the end): the answer does not tell
      // whether the name exists.
      this.authState = {
        user: startup.params.user ?? '',
        applicationName: startup.params.application_name ?? '',
        negotiate,
        exchange: new ScramExchange(this.opts.auth.verifier),
        step: 'initial',
      };
      this.phase = 'auth';
      this.socket.write(Buffer.concat([...(negotiate ? [negotiate] : []), backend.authenticationSasl([SCRAM_MECHANISM])]));
    }
  }

  /** SASLInitialResponse, then SASLResponse; on success AuthenticationOk and the session is ready, else 28P01 and closed. */
  private readAuth(): void {
    let msg: Buffer | undefined;
    while (this.phase === 'auth' && (msg = this.reader.nextTyped()) !== undefined) {
      const state = this.authState as PendingAuth;
      if (msg[0] !== MSG.SaslResponse) throw new ProtocolViolation(`expected a SASL response, got message type ${String.fromCharCode(msg[0] as number)}`);
      const body = msg.subarray(5);
      if (state.step === 'initial') {
        const nul = body.indexOf(0);
        if (nul === -1 || body.length < nul + 5) throw new ProtocolViolation('malformed SASLInitialResponse');
        const mechanism = body.toString('utf8', 0, nul);
        if (mechanism !== SCRAM_MECHANISM) {
          this.failAuth(state.user);
          return;
        }
        const len = body.readInt32BE(nul + 1);
        const data = body.toString('utf8', nul + 5, len < 0 ? nul + 5 : nul + 5 + len);
        state.step = 'final';
        this.socket.write(backend.authenticationSaslContinue(state.exchange.first(data)));
        continue;
      }
      const serverFinal = state.exchange.final(body.toString('utf8'));
      if (serverFinal === undefined || !sameUser(state.user, this.opts.auth.user)) {
        this.failAuth(state.user);
        return;
      }
      const out: Buffer[] = [backend.authenticationSaslFinal(serverFinal), backend.authenticationOk()];
      const params = new Map(this.engine.parameters);
      // The engine session is shared, so client-specific startup settings are
      // not applied to it; application_name is only echoed for the client.
      params.set('application_name', state.applicationName);
      for (const [name, value] of params) out.push(backend.parameterStatus(name, value));
      out.push(backend.backendKeyData(this.id, crypto.randomInt(0, 2 ** 31)));
      out.push(backend.readyForQuery('I'));
      this.socket.write(Buffer.concat(out));
      this.phase = 'ready';
      this.authState = undefined;
      if (this.authTimer) clearTimeout(this.authTimer);
      this.log.debug({ user: state.user, application: state.applicationName }, 'client session ready');
    }
  }

  private failAuth(user: string): void {
    this.log.warn({ user: user.slice(0, 64) }, 'embedded Postgres: authentication failed');
    this.terminate('28P01', `password authentication failed for user "${user.slice(0, 64)}"`);
  }

  /**
   * Prepared statements live in the shared engine session, so two clients
   * preparing the same name would collide (42P05). Named statements get a
   * per-session prefix on the way in; the unnamed statement needs none since
   * it never outlives the holding period of one extended-protocol batch.
   */
  private rename(msg: Buffer): Buffer {
    const range = statementNameRange(msg);
    if (range === undefined || range[0] === range[1]) return msg;
    const name = this.statementPrefix + msg.toString('utf8', range[0], range[1]);
    if (msg[0] === MSG.Parse) this.statements.add(name);
    else if (msg[0] === MSG.Close) this.statements.delete(name);
    return spliceMessage(msg, range[0], range[1], Buffer.from(name, 'utf8'));
  }

  /** Runs queued messages on the engine, taking it first if needed; one pump at a time per session. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    this.clearIdleTimer();
    try {
      while (this.pending.length > 0 && this.phase === 'ready') {
        if (!this.holding) {
          await this.engine.lock.acquire(this);
          this.holding = true;
          if (this.phase !== 'ready') break;
        }
        const batch = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
        this.pending = [];
        const out = await this.run(batch);
        if (out.length > 0 && !this.socket.destroyed) this.socket.write(out);
        // Messages that arrived during an await are picked up by the loop.
        if (this.pending.length === 0 && this.atBoundary && this.txStatus === 'I') this.releaseEngine();
      }
    } catch (err) {
      this.log.error({ err }, 'embedded Postgres engine failed while running a client batch');
      this.terminate('XX000', `embedded Postgres engine failure: ${(err as Error).message}`);
    } finally {
      this.pumping = false;
    }
    if (this.terminating && this.phase === 'ready' && this.pending.length === 0) this.endByClient();
    if (this.phase === 'closed') await this.finish();
    else if (this.holding && this.engine.lock.waiting > 0) this.armIdleTimer();
  }

  /** Runs a batch and records the state the engine is left in. */
  private async run(batch: Buffer): Promise<Buffer> {
    const out = await this.engine.exec(batch);
    const state = scanOutput(out);
    if (state.atBoundary !== undefined) this.atBoundary = state.atBoundary;
    if (state.txStatus !== undefined) this.txStatus = state.txStatus;
    if (state.lastType !== 0) this.lastType = state.lastType;
    // Idle again: any transaction in this batch has ended, so its commit record
    // is in the WAL; it is on disk before the client hears of the commit.
    if (state.txStatus === 'I') await this.engine.durability.syncWal();
    return out;
  }

  private releaseEngine(): void {
    if (!this.holding) return;
    this.holding = false;
    this.clearIdleTimer();
    this.engine.lock.release(this);
  }

  private armIdleTimer(): void {
    const ms = this.opts.idleInTransactionTimeoutMs;
    if (ms <= 0 || this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.holding || this.pumping || this.phase !== 'ready') return;
      this.log.warn({ ms, waiting: this.engine.lock.waiting }, 'client held the engine idle in a transaction while others waited; terminating it');
      this.terminate('25P03', `terminating connection due to idle-in-transaction timeout (${ms} ms while other connections waited for the embedded engine)`);
    }, ms);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onClose(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.pending = [];
    this.clearIdleTimer();
    if (this.authTimer) clearTimeout(this.authTimer);
    // A running pump finishes the session itself once its await returns.
    if (!this.pumping) void this.finish();
  }

  /** Leaves the engine as a new connection would find it, then releases it. Runs once. */
  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      try {
        const needsEngine = this.holding || this.statements.size > 0;
        if (needsEngine && !this.holding) {
          await this.engine.lock.acquire(this);
          this.holding = true;
        }
        if (this.holding) await this.cleanUp();
      } catch (err) {
        this.log.error({ err }, 'cleaning up after a client session failed');
      } finally {
        this.releaseEngine();
        this.log.debug('client session closed');
        this.resolveDone();
      }
    })();
    return this.finishing;
  }

  /** While holding: ends a half-done COPY or batch, rolls back an open transaction, drops this session's statements. */
  private async cleanUp(): Promise<void> {
    if (this.lastType === MSG.CopyInResponse || this.lastType === MSG.CopyBothResponse) await this.run(frontend.copyFail('client disconnected'));
    if (!this.atBoundary) await this.run(frontend.sync());
    if (this.txStatus !== 'I') {
      this.log.debug({ txStatus: this.txStatus }, 'client left a transaction open; rolling back');
      await this.run(frontend.query('ROLLBACK'));
    }
    if (this.statements.size > 0) {
      await this.run(Buffer.concat([...[...this.statements].map((name) => frontend.closeStatement(name)), frontend.sync()]));
      this.statements.clear();
    }
    if (!this.atBoundary || this.txStatus !== 'I') {
      throw new Error(`engine not idle after cleanup (txStatus ${this.txStatus}, atBoundary ${this.atBoundary})`);
    }
  }
}
