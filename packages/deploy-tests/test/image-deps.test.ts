/**
 * What each image's node_modules holds, resolved without Docker: the
 * Dockerfile's prune flags of each image target (roles, all-in-one) applied to
 * the dependency graph of package-lock.json (package.json edges, Node's
 * resolution through node_modules), cross-checked with npm's own flags in the
 * lock and with `npm ls` over the installed tree. The role images must not
 * contain chDB (the embedded ClickHouse, ~540 MiB); the all-in-one image must.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEPLOY, imageTargets, nodeImageOf, nodeModulesOmit, parseDockerfile, read, REPO, stagesOf, type Obj } from './helpers';

type Lock = { packages: Record<string, Obj> };
type EdgeType = 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional';

const CHDB = /^(chdb|@chdb\/.+)$/;
const lockFile = path.join(REPO, 'package-lock.json');
const readLock = (): Lock => JSON.parse(read(lockFile)) as Lock;
const nameOf = (p: string): string => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** The lock entry a `require(name)` from the package at `from` finds: Node's walk up the node_modules directories, links followed. */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = path.posix.dirname(dir)) {
    const candidate = dir === '.' || dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    const entry = lock.packages[candidate];
    if (entry) return entry.link ? String(entry.resolved) : candidate;
    if (dir === '.' || dir === '') return undefined;
  }
}

function edgesOf(lock: Lock, at: string): [string, EdgeType][] {
  const e = lock.packages[at] ?? {};
  const isRootOrWorkspace = at === '' || !at.includes('node_modules/');
  const out: [string, EdgeType][] = [];
  for (const n of Object.keys(e.dependencies ?? {})) out.push([n, 'prod']);
  for (const n of Object.keys(e.optionalDependencies ?? {})) out.push([n, 'optional']);
  for (const n of Object.keys(e.peerDependencies ?? {})) out.push([n, e.peerDependenciesMeta?.[n]?.optional ? 'peerOptional' : 'peer']);
  if (isRootOrWorkspace) for (const n of Object.keys(e.devDependencies ?? {})) out.push([n, 'dev']);
  return out;
}

/**
 * Lock paths of the installed packages an `npm prune --omit=<omit>` (or `npm ci --omit`) keeps:
 * those reachable from the root and the workspaces along edges of kinds not omitted.
 * `problems` lists regular dependencies the lock cannot resolve.
 */
function keptPackages(lock: Lock, omit: string[]): { kept: Set<string>; problems: string[] } {
  // An optional peer dependency is never installed for its peer edge alone (npm 7+): only another edge brings it.
  const skip = new Set<EdgeType>(['peerOptional']);
  if (omit.includes('dev')) skip.add('dev');
  if (omit.includes('optional')) for (const t of ['optional', 'peerOptional'] as const) skip.add(t);
  if (omit.includes('peer')) for (const t of ['peer', 'peerOptional'] as const) skip.add(t);
  const workspaces = Object.keys(lock.packages).filter((p) => p !== '' && !p.includes('node_modules/'));
  const kept = new Set<string>(['', ...workspaces]);
  const problems: string[] = [];
  const queue = [...kept];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const [dep, type] of edgesOf(lock, at)) {
      if (skip.has(type)) continue;
      const to = resolveIn(lock, at, dep);
      if (!to) {
        if (type === 'prod' || type === 'peer') problems.push(`${at || '(root)'} needs ${dep}, which the lock does not resolve`);
        continue;
      }
      if (!kept.has(to)) {
        kept.add(to);
        queue.push(to);
      }
    }
  }
  return { kept, problems };
}

/** The same set from npm's own flags in the lock (what `npm prune --omit` reads). */
function keptByLockFlags(lock: Lock, omit: string[]): Set<string> {
  const out = new Set<string>();
  for (const [p, e] of Object.entries(lock.packages)) {
    if (e.link) continue;
    const gone =
      (omit.includes('dev') && e.dev) ||
      (omit.includes('optional') && e.optional) ||
      (omit.includes('dev') && omit.includes('optional') && e.devOptional) ||
      (omit.includes('peer') && e.peer);
    if (!gone) out.add(p);
  }
  return out;
}

const names = (paths: Iterable<string>): string[] => [...new Set([...paths].filter((p) => p.includes('node_modules/')).map(nameOf))].sort();

describe("image dependency trees (package-lock.json resolved with each image target's npm flags)", () => {
  const dockerfile = read(path.join(DEPLOY, 'Dockerfile'));
  const stages = stagesOf(parseDockerfile(dockerfile));
  const targets = imageTargets(stages);
  const lock = readLock();

  it('the Dockerfile builds two images: all-in-one and roles, roles the default (last) target', () => {
    expect(targets.map((t) => t.name)).toEqual(['all-in-one', 'roles']);
    expect(stages[stages.length - 1]!.name).toBe('roles');
    expect(nodeModulesOmit(stages, targets[1]!).omit.sort()).toEqual(['dev', 'optional']);
    expect(nodeModulesOmit(stages, targets[0]!).omit).toEqual(['dev']);
  });

  it('the roles image contains no chDB; the all-in-one image does (with the linux-x64 glibc engine)', () => {
    const byTarget = Object.fromEntries(targets.map((t) => [t.name, keptPackages(lock, nodeModulesOmit(stages, t).omit)]));
    for (const [name, { problems }] of Object.entries(byTarget)) expect({ name, problems }).toEqual({ name, problems: [] });
    const roles = names(byTarget.roles!.kept);
    const allInOne = names(byTarget['all-in-one']!.kept);
    expect(roles.filter((n) => CHDB.test(n))).toEqual([]);
    expect(allInOne).toEqual(expect.arrayContaining(['chdb', '@chdb/lib-linux-x64-gnu']));
    // What the roles image leaves out besides chDB's own tree: only optional packages it does not need.
    const dropped = allInOne.filter((n) => !roles.includes(n));
    // @platformatic/kafka's optional native crc32c falls back to its WebAssembly helper, and protobufjs (with long) serves only schema registries.
    const optionalOk = ['@clickhouse/client-common', 'node-addon-api', 'node-gyp-build', 'pg-cloudflare', 'protobufjs', 'long'];
    expect(dropped.filter((n) => !CHDB.test(n) && !/^@node-rs\/crc32(-.+)?$/.test(n) && !optionalOk.includes(n))).toEqual([]);
    // The role images' runtime packages are still there.
    expect(roles).toEqual(expect.arrayContaining(['@clickhouse/client', 'pg', '@platformatic/kafka', 'ioredis']));
    // One Kafka client: kafkajs only in tests (a third-party producer) and as the SDK's optional peer.
    expect(roles).not.toContain('kafkajs');
    expect([...byTarget.roles!.kept]).toEqual(expect.arrayContaining(['packages/cli', 'packages/core', 'packages/embedded-clickhouse']));
  });

  it('the graph walk agrees with the flags npm wrote into the lock (dev, optional)', () => {
    for (const omit of [['dev'], ['dev', 'optional']]) {
      const walked = keptPackages(lock, omit).kept;
      const flagged = keptByLockFlags(lock, omit);
      const onlyWalked = [...walked].filter((p) => p.includes('node_modules/') && !flagged.has(p));
      const onlyFlagged = [...flagged].filter((p) => p.includes('node_modules/') && !walked.has(p));
      expect({ omit, onlyWalked, onlyFlagged }).toEqual({ omit, onlyWalked: [], onlyFlagged: [] });
    }
  });

  it('npm ls over the installed tree: chdb only through optional dependencies', () => {
    const ls = (omit: string[]): Obj => {
      const r = spawnSync('npm', ['ls', 'chdb', '--all', '--json', ...omit.map((o) => `--omit=${o}`)], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
      return JSON.parse(r.stdout || '{}') as Obj;
    };
    const found = (tree: Obj): string[] => Object.entries((tree.dependencies ?? {}) as Obj).flatMap(([n, d]) => [n, ...found(d as Obj)]);
    expect(found(ls(['dev', 'optional'])).filter((n) => CHDB.test(n))).toEqual([]);
    expect(found(ls(['dev']))).toContain('chdb');
  }, 60_000);

  it('a regular (non-optional) chdb dependency would put it in the roles image (negative check)', () => {
    const broken = structuredClone(lock);
    const ec = broken.packages['packages/embedded-clickhouse']!;
    ec.dependencies = { ...ec.dependencies, ...ec.optionalDependencies };
    delete ec.optionalDependencies;
    expect(names(keptPackages(broken, ['dev', 'optional']).kept)).toContain('chdb');
    // And an unresolvable regular dependency is reported.
    ec.dependencies['no-such-package'] = '1.0.0';
    expect(keptPackages(broken, ['dev', 'optional']).problems.join('\n')).toMatch(/needs no-such-package/);
  });

  it('the CLI loads the embedded ClickHouse only when it starts: no runtime import of it, chdb not loaded by the platform module', () => {
    const cliSrc = path.join(REPO, 'packages', 'cli', 'src');
    const grep = spawnSync('grep', ['-rn', "from '@tidemark/embedded-clickhouse'", cliSrc], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    for (const line of grep) expect(line).toMatch(/import type /);
    const pkg = (p: string): Obj => JSON.parse(read(path.join(REPO, 'packages', p, 'package.json'))) as Obj;
    expect(pkg('embedded-clickhouse').optionalDependencies?.chdb).toBeDefined();
    expect(pkg('embedded-clickhouse').dependencies?.chdb).toBeUndefined();
    for (const p of ['cli', 'core', 'collector', 'api', 'etl', 'alerting', 'monitor'])
      expect({ p, chdb: pkg(p).dependencies?.chdb }).toEqual({ p, chdb: undefined });
    // The built platform module, required as a role process does: chdb stays out of the process.
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        "require('./packages/cli/dist/platform.js'); const loaded = Object.keys(require.cache).filter((k) => /[\\\\/]chdb[\\\\/]/.test(k)); console.log(JSON.stringify(loaded))",
      ],
      { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
    );
    expect(probe.stderr).toBe('');
    expect(JSON.parse(probe.stdout)).toEqual([]);
  }, 60_000);
});

describe('base image: a maintained Node.js LTS', () => {
  /** End of life of the Node.js LTS lines (https://github.com/nodejs/Release). Odd majors are never LTS. */
  const LTS_END_OF_LIFE: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' };
  const node = nodeImageOf(read(path.join(DEPLOY, 'Dockerfile')));

  it('ARG NODE_IMAGE names an LTS line that has not reached its end of life', () => {
    expect(node).toBeDefined();
    const eol = LTS_END_OF_LIFE[node!.major];
    expect({ image: node!.image, lts: eol !== undefined }).toEqual({ image: node!.image, lts: true });
    expect({ image: node!.image, eol, maintained: Date.parse(eol!) > Date.now() }).toEqual({ image: node!.image, eol, maintained: true });
    expect(node!.image).toMatch(/-bookworm-slim$|-trixie-slim$/); // glibc: chdb's engine needs it
  });

  it("package.json engines still admit Node 20 for development, and the image's major", () => {
    const engines = String((JSON.parse(read(path.join(REPO, 'package.json'))) as Obj).engines?.node);
    const min = Number(/^>=\s*(\d+)/.exec(engines)?.[1]);
    expect(min).toBeLessThanOrEqual(20);
    expect(node!.major).toBeGreaterThanOrEqual(min);
  });

  it('rejects an image past its end of life (negative check)', () => {
    const old = nodeImageOf('ARG NODE_IMAGE=node:20-bookworm-slim\n')!;
    expect(Date.parse(LTS_END_OF_LIFE[old.major]!) > Date.parse('2026-12-04')).toBe(false);
    expect(LTS_END_OF_LIFE[23]).toBeUndefined();
  });
});
