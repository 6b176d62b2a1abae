/**
 * Identifier and literal quoting for the SQL this package generates.
 *
 * Invariant: values never reach SQL text through these helpers except
 * literals that the package itself builds from catalog facts (column names in
 * error messages, numeric bounds). Data values are always bound parameters,
 * or, for COPY (which takes no parameters), transaction-local settings read
 * with current_setting() (see bind.ts).
 */
import { ValidationError } from '@tidemark/core';

function rejectControl(kind: string, name: string): void {
  // NUL cannot be represented at all; other control characters in names are
  // legal in Postgres but almost certainly a mistake and unsafe in logs.
  if (name.length === 0 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError(`invalid ${kind} name ${JSON.stringify(name)}: empty or contains control characters`);
  }
}

/** A Postgres identifier, always double-quoted (so case and odd characters are kept). */
export function pgIdent(name: string): string {
  rejectControl('Postgres identifier', name);
  return `"${name.replace(/"/g, '""')}"`;
}

/** schema.table, both quoted. */
export function pgTable(schema: string, table: string): string {
  return `${pgIdent(schema)}.${pgIdent(table)}`;
}

/** A Postgres string literal (standard_conforming_strings = on, which every read transaction sets). */
export function pgLiteral(value: string): string {
  if (value.includes('\u0000')) throw new ValidationError('a Postgres literal cannot contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A ClickHouse identifier in backticks, backslash and backtick escaped. */
export function chIdent(name: string): string {
  rejectControl('ClickHouse identifier', name);
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** Names Tidemark creates in ClickHouse (tables, views, databases) are plain identifiers. */
export const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertPlainIdentifier(kind: string, name: string): string {
  if (!PLAIN_IDENTIFIER.test(name))
    throw new ValidationError(`${kind} ${JSON.stringify(name)} must be a plain identifier (letters, digits, _; not starting with a digit)`);
  return name;
}
