/**
 * ClickHouse's `EXPLAIN AST` output read as a tree.
 *
 * Each line is one node: one space of indentation per level, then the node
 * kind (SelectQuery, Function, Identifier, ...), then for some kinds a name,
 * then optional `(alias x)` and `(children n)`. The parent of a node is the
 * nearest line above it with one space less.
 *
 * Invariant: parsing never guesses. A line whose indentation jumps by more
 * than one level, or that does not start with a kind, makes the whole parse
 * fail (AstParseError): the caller refuses the statement rather than check
 * a tree that might not be the engine's.
 */
export interface AstNode {
  kind: string;
  /** Text after the kind, without `(alias ...)` / `(children n)` suffixes: a function or identifier name, a literal. */
  name: string;
  alias: string | undefined;
  children: AstNode[];
  parent: AstNode | undefined;
  /** 0-based line number in the EXPLAIN output. */
  line: number;
}

export class AstParseError extends Error {}

const KIND = /^[A-Za-z_][A-Za-z0-9_:]*$/;

/** Splits `rest` into name, alias, children count. */
function splitRest(rest: string): { name: string; alias: string | undefined } {
  let s = rest;
  const children = / \(children \d+\)$/.exec(s);
  if (children) s = s.slice(0, children.index);
  else if (/^\(children \d+\)$/.test(s)) s = '';
  let alias: string | undefined;
  const a = s.lastIndexOf(' (alias ');
  if (a !== -1 && s.endsWith(')')) {
    alias = s.slice(a + 8, -1);
    s = s.slice(0, a);
  } else if (s.startsWith('(alias ') && s.endsWith(')')) {
    alias = s.slice(7, -1);
    s = '';
  }
  return { name: s, alias };
}

/** Parses EXPLAIN AST lines into their root nodes (normally one). */
export function parseExplainAst(lines: string[]): AstNode[] {
  const roots: AstNode[] = [];
  const stack: AstNode[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    if (!/^ *\S/.test(raw)) throw new AstParseError(`line ${i + 1}: indentation is not spaces`);
    const depth = raw.length - raw.trimStart().length;
    const text = raw.slice(depth);
    const sp = text.indexOf(' ');
    const kind = sp === -1 ? text : text.slice(0, sp);
    if (!KIND.test(kind)) throw new AstParseError(`line ${i + 1}: not a node: ${text.slice(0, 80)}`);
    const { name, alias } = splitRest(sp === -1 ? '' : text.slice(sp + 1));
    if (depth > stack.length) throw new AstParseError(`line ${i + 1}: indentation jumps from ${stack.length - 1} to ${depth}`);
    stack.length = depth;
    const parent = stack[depth - 1];
    const node: AstNode = { kind, name, alias, children: [], parent, line: i };
    if (parent) parent.children.push(node);
    else roots.push(node);
    stack.push(node);
  });
  return roots;
}

/** Every node of the tree, depth first. */
export function* walkAst(node: AstNode): Generator<AstNode> {
  yield node;
  for (const c of node.children) yield* walkAst(c);
}
