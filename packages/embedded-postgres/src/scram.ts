/**
 * SCRAM-SHA-256 (RFC 5802 / 7677), the server side, as Postgres speaks it in
 * AuthenticationSASL: no channel binding (the server is loopback plain TCP,
 * so only the `n` and `y` GS2 flags are accepted), the user name taken from
 * the StartupMessage, 4096 PBKDF2 iterations (Postgres's default).
 */
import crypto from 'node:crypto';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

const hmac = (key: Buffer, data: string): Buffer => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => crypto.createHash('sha256').update(data).digest();

/** What the server keeps to check a password without keeping it: salt, StoredKey, ServerKey. */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramVerifier(password: string, salt: Buffer = crypto.randomBytes(16), iterations = ITERATIONS): ScramVerifier {
  const salted = crypto.pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** A malformed SCRAM message: the session ends with 08P01. */
export class ScramProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramProtocolError';
  }
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new ScramProtocolError(`malformed SCRAM attribute "${part.slice(0, 32)}"`);
    out.set(part[0] as string, part.slice(2));
  }
  return out;
}

/** One SCRAM exchange: client-first → server-first, client-final → verified (and server-final) or refused. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  constructor(private readonly verifier: ScramVerifier) {}

  /** Takes client-first-message, returns server-first-message. */
  first(clientFirst: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(clientFirst);
    if (!m) throw new ScramProtocolError('malformed SCRAM client-first-message');
    if (m[1]?.startsWith('p=')) throw new ScramProtocolError('channel binding is not supported by this server');
    this.gs2Header = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3] as string;
    const clientNonce = attributes(this.clientFirstBare).get('r');
    if (!clientNonce) throw new ScramProtocolError('SCRAM client-first-message without a nonce');
    this.nonce = clientNonce + crypto.randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Takes client-final-message; returns server-final-message when the proof holds, undefined when the password is wrong. */
  final(clientFinal: string): string | undefined {
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt === -1) throw new ScramProtocolError('SCRAM client-final-message without a proof');
    const withoutProof = clientFinal.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw new ScramProtocolError('SCRAM channel binding does not match');
    if (attrs.get('r') !== this.nonce) throw new ScramProtocolError('SCRAM nonce does not match');
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    if (proof.length !== 32) return undefined;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const signature = hmac(this.verifier.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number);
    if (!crypto.timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return undefined;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}
