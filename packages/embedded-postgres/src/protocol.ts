/**
 * The few pieces of the Postgres wire protocol (v3) the front needs: framing
 * of frontend messages, the handful of backend messages it answers itself
 * (authentication, errors), renaming of prepared statements, and a scan of
 * the engine's output for ReadyForQuery.
 *
 * Everything here is pure (no sockets, no engine), so it is unit-tested alone.
 */

/** Startup-phase request codes: the int32 after the length of an untyped packet. */
export const PROTOCOL_MAJOR_3 = 3;
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** Message type bytes used below (frontend and backend share the byte space but not the meanings). */
export const MSG = {
  // frontend
  Parse: 0x50, // 'P'
  Bind: 0x42, // 'B'
  Describe: 0x44, // 'D'
  Close: 0x43, // 'C'
  Sync: 0x53, // 'S'
  Query: 0x51, // 'Q'
  Terminate: 0x58, // 'X'
  CopyFail: 0x66, // 'f'
  /** SASLInitialResponse and SASLResponse (and PasswordMessage) share the type byte 'p'. */
  SaslResponse: 0x70, // 'p'
  // backend
  ReadyForQuery: 0x5a, // 'Z'
  ParameterStatus: 0x53, // 'S'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  CopyInResponse: 0x47, // 'G'
  CopyBothResponse: 0x57, // 'W'
} as const;

/** A malformed frontend message: the connection is answered with FATAL 08P01 and closed. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

/**
 * Reassembles frontend messages from socket chunks. Startup-phase packets
 * have no type byte (int32 length first); every later message is
 * type byte + int32 length (the length counts itself, not the type byte).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  get buffered(): number {
    return this.buf.length;
  }

  /** The next complete startup-phase packet (length included), or undefined if more bytes are needed. */
  nextUntyped(): Buffer | undefined {
    if (this.buf.length < 4) return undefined;
    const len = this.buf.readInt32BE(0);
    // A startup packet is small; Postgres itself caps it at 10000 bytes.
    if (len < 8 || len > 10_000) throw new ProtocolViolation(`invalid length of startup packet: ${len}`);
    return this.take(len);
  }

  /** The next complete typed message (type byte included), or undefined if more bytes are needed. */
  nextTyped(): Buffer | undefined {
    if (this.buf.length < 5) return undefined;
    const len = this.buf.readInt32BE(1);
    if (len < 4 || len > this.maxMessageBytes) throw new ProtocolViolation(`invalid message length: ${len}`);
    return this.take(len + 1);
  }

  private take(n: number): Buffer | undefined {
    if (this.buf.length < n) return undefined;
    const msg = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return msg;
  }
}

export interface StartupPacket {
  major: number;
  minor: number;
  params: Record<string, string>;
}

/** Decodes a StartupMessage (protocol 3.x): version, then name/value C strings ending in an empty name. */
export function parseStartup(packet: Buffer): StartupPacket {
  const version = packet.readInt32BE(4);
  const params: Record<string, string> = {};
  let pos = 8;
  while (pos < packet.length) {
    const nameEnd = packet.indexOf(0, pos);
    if (nameEnd === -1) throw new ProtocolViolation('unterminated startup packet');
    if (nameEnd === pos) break; // the terminating empty name
    const valueEnd = packet.indexOf(0, nameEnd + 1);
    if (valueEnd === -1) throw new ProtocolViolation('unterminated startup packet');
    params[packet.toString('utf8', pos, nameEnd)] = packet.toString('utf8', nameEnd + 1, valueEnd);
    pos = valueEnd + 1;
  }
  return { major: version >>> 16, minor: version & 0xffff, params };
}

/** Encodes a typed message from its type byte and body. */
export function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

export const backend = {
  authenticationOk: (): Buffer => message(0x52 /* R */, int32(0)),
  /** AuthenticationSASL: the mechanisms offered, each a C string, then an empty one. */
  authenticationSasl: (mechanisms: string[]): Buffer => message(0x52, Buffer.concat([int32(10), ...mechanisms.map(cstr), Buffer.from([0])])),
  authenticationSaslContinue: (data: string): Buffer => message(0x52, Buffer.concat([int32(11), Buffer.from(data, 'utf8')])),
  authenticationSaslFinal: (data: string): Buffer => message(0x52, Buffer.concat([int32(12), Buffer.from(data, 'utf8')])),
  parameterStatus: (name: string, value: string): Buffer => message(0x53, Buffer.concat([cstr(name), cstr(value)])),
  backendKeyData: (pid: number, secret: number): Buffer => message(0x4b /* K */, Buffer.concat([int32(pid), int32(secret)])),
  readyForQuery: (status: 'I' | 'T' | 'E'): Buffer => message(MSG.ReadyForQuery, Buffer.from(status, 'ascii')),
  /** NegotiateProtocolVersion: the newest minor version served and the startup options not recognised. */
  negotiateProtocolVersion: (minor: number, unrecognized: string[]): Buffer =>
    message(0x76 /* v */, Buffer.concat([int32(minor), int32(unrecognized.length), ...unrecognized.map(cstr)])),
  /** ErrorResponse with the fields clients read: severity (S and V), SQLSTATE (C) and message (M). */
  error: (severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer =>
    message(
      0x45 /* E */,
      Buffer.concat([
        Buffer.from('S'),
        cstr(severity),
        Buffer.from('V'),
        cstr(severity),
        Buffer.from('C'),
        cstr(code),
        Buffer.from('M'),
        cstr(text),
        Buffer.from([0]),
      ]),
    ),
};

export const frontend = {
  startup: (params: Record<string, string>): Buffer => {
    const body = Buffer.concat([int32(3 << 16), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
    return Buffer.concat([int32(body.length + 4), body]);
  },
  query: (sql: string): Buffer => message(MSG.Query, cstr(sql)),
  sync: (): Buffer => message(MSG.Sync, Buffer.alloc(0)),
  closeStatement: (name: string): Buffer => message(MSG.Close, Buffer.concat([Buffer.from('S'), cstr(name)])),
  copyFail: (reason: string): Buffer => message(MSG.CopyFail, cstr(reason)),
};

/**
 * Where the prepared-statement name sits in a Parse, Bind, Describe('S') or
 * Close('S') message, as [start, end) byte offsets; undefined for any other
 * message or for Describe/Close of a portal. Portals need no renaming: the
 * protocol destroys them at the end of their transaction, and transactions of
 * different clients never overlap on the engine.
 */
export function statementNameRange(msg: Buffer): [number, number] | undefined {
  let start: number;
  switch (msg[0]) {
    case MSG.Parse:
      start = 5;
      break;
    case MSG.Bind: {
      const portalEnd = msg.indexOf(0, 5);
      if (portalEnd === -1) throw new ProtocolViolation('malformed Bind message');
      start = portalEnd + 1;
      break;
    }
    case MSG.Describe:
    case MSG.Close:
      if (msg[5] !== 0x53 /* S */) return undefined;
      start = 6;
      break;
    default:
      return undefined;
  }
  const end = msg.indexOf(0, start);
  if (end === -1) throw new ProtocolViolation(`malformed ${String.fromCharCode(msg[0] ?? 0)} message`);
  return [start, end];
}

/** Returns `msg` with bytes [start, end) replaced and the length field fixed. */
export function spliceMessage(msg: Buffer, start: number, end: number, replacement: Buffer): Buffer {
  const out = Buffer.concat([msg.subarray(0, start), replacement, msg.subarray(end)]);
  out.writeInt32BE(out.length - 1, 1);
  return out;
}

/** What the engine's output says about the session state after it. */
export interface OutputState {
  /**
   * True when the output ends in ReadyForQuery (followed at most by
   * asynchronous messages): the engine processed a Sync or a simple Query
   * completely and waits for the next command. False when it stopped in the
   * middle of an extended-protocol batch or a COPY. Undefined when the output
   * held no message that changes this (e.g. only ParameterStatus).
   */
  atBoundary: boolean | undefined;
  /** Transaction status of the last ReadyForQuery: I idle, T in a transaction, E in a failed transaction. */
  txStatus: 'I' | 'T' | 'E' | undefined;
  /** Type byte of the last non-asynchronous message, 0 if none. */
  lastType: number;
}

const ASYNC_TYPES = new Set<number>([MSG.ParameterStatus, MSG.NoticeResponse, MSG.NotificationResponse]);

/** Walks the backend messages in `out` (always whole messages: the engine returns complete output). */
export function scanOutput(out: Uint8Array): OutputState {
  const state: OutputState = { atBoundary: undefined, txStatus: undefined, lastType: 0 };
  const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  while (pos + 5 <= view.length) {
    const type = view[pos] as number;
    const len = view.readInt32BE(pos + 1);
    if (!ASYNC_TYPES.has(type)) {
      state.lastType = type;
      if (type === MSG.ReadyForQuery) {
        state.atBoundary = true;
        state.txStatus = String.fromCharCode(view[pos + 5] as number) as 'I' | 'T' | 'E';
      } else {
        state.atBoundary = false;
      }
    }
    pos += 1 + len;
  }
  return state;
}
