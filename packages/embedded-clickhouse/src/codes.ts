/**
 * ClickHouse exception codes the HTTP front produces itself or maps to an
 * HTTP status, following the server's own mapping: authentication 401,
 * permission 403, bad query 400, unknown object 404, overload 503, else 500.
 */
export const CODES = {
  UNKNOWN_FORMAT: 73,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_SETTING: 115,
  READONLY: 164,
  ACCESS_DENIED: 497,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  SYNTAX_ERROR: 62,
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  UNKNOWN_QUERY_PARAMETER: 456,
  BAD_QUERY_PARAMETER: 457,
  AUTHENTICATION_FAILED: 516,
  HTTP_LENGTH_REQUIRED: 381,
  CANNOT_DECOMPRESS: 271,
  TOO_LARGE_STRING_SIZE: 131,
  UNKNOWN_EXCEPTION: 1002,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(CODES).map(([k, v]) => [v, k]));

const UNAUTHORIZED = new Set([192, 193, 194, 516]);
const FORBIDDEN = new Set([164, 497, 291]);
const NOT_FOUND = new Set([16, 60, 81, 390]);
const UNAVAILABLE = new Set([202, 241]);
const BAD_REQUEST = new Set([
  6, 25, 26, 27, 32, 33, 34, 35, 36, 38, 41, 42, 43, 44, 46, 47, 48, 49, 53, 62, 69, 70, 72, 73, 80, 115, 117, 130, 131, 179, 184, 215, 271, 352, 386, 456, 457,
]);

export function httpStatusFor(code: number): number {
  if (UNAUTHORIZED.has(code)) return 401;
  if (FORBIDDEN.has(code)) return 403;
  if (NOT_FOUND.has(code)) return 404;
  if (UNAVAILABLE.has(code)) return 503;
  if (BAD_REQUEST.has(code)) return 400;
  return 500;
}

/** An exception in ClickHouse's wire form: "Code: N. DB::Exception: message. (NAME) (version V)". */
export class ServerException extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  render(version: string): string {
    return formatException(this.code, this.message, NAMES[this.code] ?? 'UNKNOWN_EXCEPTION', version);
  }
}

export function formatException(code: number, message: string, name: string, version: string): string {
  return `Code: ${code}. DB::Exception: ${message}. (${name}) (version ${version})\n`;
}

/**
 * chDB error text already has the server's form; a setting refused on a
 * read-only connection comes wrapped twice, which is unwrapped here.
 */
export function normalizeEngineMessage(code: number, message: string, version: string): string {
  const doubled = new RegExp(`^Code: ${code}\\. DB::Exception: (Code: ${code}\\. DB::Exception: )`);
  let text = message.replace(doubled, '$1').trimEnd();
  if (!text.startsWith('Code: ')) text = `Code: ${code}. DB::Exception: ${text}`;
  if (!/\(version [^)]*\)$/.test(text)) text += ` (version ${version})`;
  return text + '\n';
}
