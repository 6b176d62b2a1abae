/**
 * A pgoutput (protocol version 1) decoder that keeps every value as the
 * exact text Postgres sent, for pg-logical-replication's
 * LogicalReplicationService.
 *
 * The library's own parser runs values through node-postgres type parsers
 * (timestamptz becomes a JS Date and loses its microseconds); CDC here only
 * needs keys, and needs them exact, so values stay text and are cast back in
 * SQL. A TOASTed value that an UPDATE did not change arrives as "unchanged"
 * (no value at all): it is marked, never guessed — the row is refetched.
 *
 * Message formats: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type { Client } from 'pg';
// The base class is not re-exported by the package index; it is a stable file of its dist.
import { AbstractPlugin } from 'pg-logical-replication/dist/output-plugins/abstract.plugin.js';
import { InternalError } from '@tidemark/core';
import { lsnToDecimal } from './lsn';

export const UNCHANGED_TOAST = Symbol('unchanged-toast');
export type TupleValue = string | null | typeof UNCHANGED_TOAST;
export type Tuple = Record<string, TupleValue>;

export interface Relation {
  tag: 'relation';
  oid: number;
  schema: string;
  name: string;
  replicaIdentity: string;
  columns: { name: string; flags: number; typeOid: number; typeMod: number }[];
}

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: string; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: string; endLsn: string; commitTime: bigint }
  | Relation
  | { tag: 'insert'; relation: Relation; new: Tuple }
  | { tag: 'update'; relation: Relation; key: Tuple | null; old: Tuple | null; new: Tuple }
  | { tag: 'delete'; relation: Relation; key: Tuple | null; old: Tuple | null }
  | { tag: 'truncate'; relations: Relation[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; transactional: boolean; lsn: string; prefix: string; content: Buffer }
  | { tag: 'type' | 'origin' };

const decoder = new TextDecoder();

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.pos++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  lsn(): string {
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end === -1) throw new InternalError('pgoutput: unterminated string');
    const s = decoder.decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** Microseconds since 2000-01-01 → microseconds since 1970-01-01. */
const PG_EPOCH_US = 946_684_800_000_000n;

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();

  decode(buf: Buffer): PgoutputMessage {
    const r = new Reader(buf);
    const tag = String.fromCharCode(r.u8());
    switch (tag) {
      case 'B':
        return { tag: 'begin', finalLsn: r.lsn(), commitTime: r.u64() + PG_EPOCH_US, xid: r.i32() };
      case 'C': {
        r.u8(); // flags, unused
        return { tag: 'commit', commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.u64() + PG_EPOCH_US };
      }
      case 'R': {
        const oid = r.i32();
        const schema = r.cstring();
        const name = r.cstring();
        const replicaIdentity = String.fromCharCode(r.u8());
        const n = r.i16();
        const columns = [];
        for (let i = 0; i < n; i++) columns.push({ flags: r.u8(), name: r.cstring(), typeOid: r.i32(), typeMod: r.i32() });
        const rel: Relation = { tag: 'relation', oid, schema, name, replicaIdentity, columns };
        this.relations.set(oid, rel);
        return rel;
      }
      case 'I': {
        const rel = this.relation(r.i32());
        r.u8(); // 'N'
        return { tag: 'insert', relation: rel, new: this.tuple(r, rel) };
      }
      case 'U': {
        const rel = this.relation(r.i32());
        let key: Tuple | null = null;
        let old: Tuple | null = null;
        let kind = String.fromCharCode(r.u8());
        if (kind === 'K') key = this.tuple(r, rel);
        else if (kind === 'O') old = this.tuple(r, rel);
        if (kind !== 'N') kind = String.fromCharCode(r.u8());
        if (kind !== 'N') throw new InternalError(`pgoutput: unexpected update part ${kind}`);
        return { tag: 'update', relation: rel, key, old, new: this.tuple(r, rel) };
      }
      case 'D': {
        const rel = this.relation(r.i32());
        const kind = String.fromCharCode(r.u8());
        const t = this.tuple(r, rel);
        return { tag: 'delete', relation: rel, key: kind === 'K' ? t : null, old: kind === 'O' ? t : null };
      }
      case 'T': {
        const n = r.i32();
        const flags = r.u8();
        const relations: Relation[] = [];
        for (let i = 0; i < n; i++) relations.push(this.relation(r.i32()));
        return { tag: 'truncate', relations, cascade: (flags & 1) !== 0, restartIdentity: (flags & 2) !== 0 };
      }
      case 'M': {
        const flags = r.u8();
        const lsn = r.lsn();
        const prefix = r.cstring();
        const len = r.i32();
        return { tag: 'message', transactional: (flags & 1) !== 0, lsn, prefix, content: Buffer.from(r.bytes(len)) };
      }
      case 'Y':
        return { tag: 'type' };
      case 'O':
        return { tag: 'origin' };
      default:
        throw new InternalError(`pgoutput: unknown message ${JSON.stringify(tag)}`);
    }
  }

  private relation(oid: number): Relation {
    const rel = this.relations.get(oid);
    if (!rel) throw new InternalError(`pgoutput: change for relation ${oid} before its Relation message`);
    return rel;
  }

  private tuple(r: Reader, rel: Relation): Tuple {
    const n = r.i16();
    const out: Tuple = {};
    for (let i = 0; i < n; i++) {
      const name = rel.columns[i]?.name ?? `#${i}`;
      const kind = String.fromCharCode(r.u8());
      if (kind === 'n') out[name] = null;
      else if (kind === 'u') out[name] = UNCHANGED_TOAST;
      else if (kind === 't' || kind === 'b') out[name] = decoder.decode(r.bytes(r.i32()));
      else throw new InternalError(`pgoutput: unknown tuple value kind ${kind}`);
    }
    return out;
  }
}

/**
 * The plugin LogicalReplicationService drives: START_REPLICATION with
 * pgoutput protocol 1, messages on (the heartbeat), values decoded as text.
 */
export class RawPgoutputPlugin extends AbstractPlugin<{ publication: string }> {
  private readonly decoder = new PgoutputDecoder();

  constructor(readonly publication: string) {
    super({ publication });
  }

  get name(): string {
    return 'pgoutput';
  }

  parse(buffer: Buffer): PgoutputMessage {
    return this.decoder.decode(buffer);
  }

  start(client: Client, slotName: string, lastLsn: string): Promise<unknown> {
    // Names are checked lower-case identifiers (config schema) and the LSN is
    // rebuilt from its numeric value: nothing else reaches this text.
    if (!/^[a-z_][a-z0-9_]*$/.test(slotName) || !/^[a-z_][a-z0-9_]*$/.test(this.publication)) {
      throw new InternalError('slot and publication names must be lower-case identifiers');
    }
    const v = BigInt(lsnToDecimal(lastLsn));
    const lsn = `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
    return client.query(`START_REPLICATION SLOT "${slotName}" LOGICAL ${lsn} (proto_version '1', publication_names '"${this.publication}"', messages 'true')`);
  }
}
