/**
 * The deploy/ files, validated without Docker or a cluster: every YAML parses,
 * compose files against the Compose specification schema, Kubernetes objects
 * against the API schemas (kubernetes-models), the Dockerfile's structure,
 * Grafana provisioning and dashboards against the ClickHouse schema, the
 * ClickHouse cluster files against each other, and every environment
 * variable against the platform's config schema. Each checker also gets a
 * broken input, to prove it rejects what it should.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  COMPOSE_DIR,
  composeProblems,
  composeSchemaProblems,
  dashboardProblems,
  DEPLOY,
  dockerfileProblems,
  dockerIgnored,
  envOf,
  etlTables,
  expandGrafanaSql,
  K8S_DIR,
  k8sProblems,
  loadCompose,
  loadComposeWith,
  loadK8s,
  migrationTables,
  parseCompose,
  parseEnvFile,
  parseYaml,
  tidemarkServices,
  parseYamlDocs,
  read,
  readDockerignore,
  rel,
  REPO,
  roleNames,
  tablesOf,
  unknownKeys,
  walk,
  xmlAll,
  xmlFromEnv,
  xmlProblems,
  type GrafanaContext,
  type K8sObject,
  type Obj,
} from './helpers';

const ROLES = roleNames();
const BASE = 'docker-compose.yml';
const KAFKA3 = 'docker-compose.kafka-3.yml';
const CLUSTER = 'docker-compose.clickhouse-cluster.yml';
const COMPOSE_FILES = [BASE, KAFKA3, CLUSTER];
/** Every combination a user may run: base, each override, both overrides. */
const COMBINATIONS: string[][] = [[BASE], [BASE, KAFKA3], [BASE, CLUSTER], [BASE, KAFKA3, CLUSTER]];

const clone = <T>(v: T): T => structuredClone(v);

describe('every YAML file in deploy/', () => {
  const files = walk(DEPLOY).filter((f) => /\.ya?ml$/.test(f));

  it('finds the compose, Kubernetes and Grafana files', () => {
    const names = files.map(rel);
    expect(names).toEqual(expect.arrayContaining(COMPOSE_FILES.map((f) => `deploy/compose/${f}`)));
    expect(names.filter((n) => n.startsWith('deploy/kubernetes/')).length).toBeGreaterThan(5);
    expect(names.filter((n) => n.startsWith('deploy/grafana/provisioning/')).length).toBe(2);
  });

  it.each(files.map((f) => [rel(f), f]))('%s parses (merge keys resolved, no duplicate keys)', (_name, file) => {
    expect(parseYamlDocs(file).length).toBeGreaterThan(0);
  });

  it('rejects a duplicate key (negative check)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-yaml-'));
    try {
      fs.writeFileSync(path.join(dir, 'dup.yml'), 'a: 1\na: 2\n');
      expect(() => parseYamlDocs(path.join(dir, 'dup.yml'))).toThrow(/unique|duplicate/i);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every XML file in deploy/ (ClickHouse and Keeper configs)', () => {
  const files = walk(DEPLOY).filter((f) => f.endsWith('.xml'));

  it.each(files.map((f) => [rel(f), f]))('%s is well-formed', (name, file) => {
    expect(xmlProblems(read(file as string), name as string)).toEqual([]);
  });

  it('every XML file is mounted by a compose file', () => {
    const composeText = COMPOSE_FILES.map((f) => read(path.join(COMPOSE_DIR, f))).join('\n');
    for (const f of files) expect({ f: rel(f), mounted: composeText.includes(`../${path.relative(DEPLOY, f)}:`) }).toEqual({ f: rel(f), mounted: true });
  });
});

describe('docker compose', () => {
  it.each(COMPOSE_FILES)('%s is valid against the Compose specification schema', (file) => {
    expect(composeSchemaProblems(parseCompose(file))).toEqual([]);
    expect(composeSchemaProblems(parseCompose(file, { TIDEMARK_PUBLISH_ADDRESS: '0.0.0.0', GRAFANA_PUBLISH_ADDRESS: '0.0.0.0' }))).toEqual([]);
  });

  it('the schema validator rejects a misspelled key, a bad duration and a bad port (negative check)', () => {
    const doc = clone(parseCompose(BASE));
    doc.services.collector.healtcheck = doc.services.collector.healthcheck;
    doc.services.postgres.healthcheck.interval = 'ten seconds';
    doc.services.api.ports = ['not-a-port'];
    const problems = composeSchemaProblems(doc).join('\n');
    expect(problems).toMatch(/additionalProperties|must NOT have additional properties/);
    expect(problems).toMatch(/healthcheck\/interval/);
    expect(problems).toMatch(/\/services\/api\/ports/);
  });

  it.each(COMBINATIONS.map((c) => [c.join(' + '), c]))('%s: depends_on, volumes, health checks, roles, env', (label, files) => {
    expect(composeProblems(loadCompose(...files), label as string, ROLES)).toEqual([]);
  });

  it('every role of packages/cli/src/roles.ts runs as its own service with the same image', () => {
    const compose = loadCompose(BASE);
    const roles = Object.values(compose.services as Obj)
      .filter((s: Obj) => Array.isArray(s.command) && s.command[0] === 'start')
      .map((s: Obj) => s.command[2]);
    expect(roles.sort()).toEqual(ROLES);
  });

  it('the semantic checks catch broken files (negative check)', () => {
    const broken = clone(loadCompose(BASE));
    broken.services.collector.depends_on.nosuchservice = { condition: 'service_started' };
    broken.services.collector.environment.CLICKHOUSE_URI = 'http://clickhouse:8123';
    broken.services.api.environment.CLICKHOUSE_PASSWORD = 'in-plain-sight';
    broken.services.consumer.command = ['start', '--role', 'nosuchrole'];
    delete broken.services.postgres.healthcheck;
    broken.services.redis.volumes = ['undeclared-volume:/data'];
    broken.services.collector.environment.COLLECTOR_PORT = 'eighty';
    const problems = composeProblems(broken, 'broken', ROLES).join('\n');
    expect(problems).toMatch(/depends_on nosuchservice, which is not a service/);
    expect(problems).toMatch(/CLICKHOUSE_URI is not a key/);
    expect(problems).toMatch(/CLICKHOUSE_PASSWORD is a secret/);
    expect(problems).toMatch(/role nosuchrole does not exist/);
    expect(problems).toMatch(/role consumer .* has no service/);
    expect(problems).toMatch(/service postgres: stateful service without a health check/);
    expect(problems).toMatch(/volume undeclared-volume is not declared/);
    expect(problems).toMatch(/COLLECTOR_PORT: .*number/i);
  });

  // The real tool where it is installed (Debian's docker-compose 1.29, or any `docker-compose`): it parses,
  // validates, merges and interpolates every combination, and its merge must be the one the checks above model.
  const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
  (dockerCompose ? it.each(COMBINATIONS.map((c) => [c.join(' + '), c])) : it.skip.each(COMBINATIONS.map((c) => [c.join(' + '), c])))(
    'docker-compose config accepts %s, and its merge agrees with loadCompose',
    (_label, files) => {
      const list = files as string[];
      const r = spawnSync('docker-compose', [...list.flatMap((f) => ['-f', f]), 'config'], {
        cwd: COMPOSE_DIR,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '' },
      });
      expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
      const real = (YAML.parse(r.stdout) as Obj).services as Obj;
      const model = loadCompose(...list).services as Obj;
      expect(Object.keys(real).sort()).toEqual(Object.keys(model).sort());
      for (const [name, svc] of Object.entries(model) as [string, Obj][]) {
        const got = real[name] as Obj;
        const ports = (got.ports ?? []).map((p: string | Obj) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.host_ip}:${p.published}:${p.target}`));
        expect({ name, ports }).toEqual({ name, ports: svc.ports ?? [] });
        const env = Object.fromEntries(Object.entries(envOf(svc)).map(([k, v]) => [k, String(v)]));
        expect({ name, env: Object.fromEntries(Object.keys(env).map((k) => [k, String(envOf(got)[k])])) }).toEqual({ name, env });
        expect({ name, depends: Object.keys(got.depends_on ?? {}).sort() }).toEqual({ name, depends: Object.keys(svc.depends_on ?? {}).sort() });
        expect({ name, entrypoint: got.entrypoint, command: got.command }).toEqual({ name, entrypoint: svc.entrypoint, command: svc.command });
      }
    },
    60_000,
  );

  it('the secret files agree: the platform and the servers use the same passwords', () => {
    const tm = parseEnvFile(path.join(COMPOSE_DIR, 'tidemark.secrets.env'));
    const infra = parseEnvFile(path.join(COMPOSE_DIR, 'infra.secrets.env'));
    expect(unknownKeys(Object.keys(tm), 'tidemark.secrets.env')).toEqual([]);
    expect(tm.CLICKHOUSE_PASSWORD).toBe(infra.TIDEMARK_CH_PASSWORD);
    expect(tm.CLICKHOUSE_READONLY_PASSWORD).toBe(infra.TIDEMARK_CH_READONLY_PASSWORD);
    expect(decodeURIComponent(new URL(tm.META_DATABASE_URL!).password)).toBe(infra.POSTGRES_PASSWORD);
    expect(new URL(tm.META_DATABASE_URL!).username).toBe(loadCompose(BASE).services.postgres.environment.POSTGRES_USER);
  });

  it('ClickHouse users match the platform settings, and every from_env variable is provided', () => {
    const users = read(path.join(DEPLOY, 'clickhouse', 'users.d', 'tidemark.xml'));
    expect(xmlProblems(users, 'users.d/tidemark.xml')).toEqual([]);
    const env = envOf(loadCompose(BASE).services.collector);
    expect(users).toContain(`<${String(env.CLICKHOUSE_USER)}>`);
    expect(users).toContain(`<${String(env.CLICKHOUSE_READONLY_USER)}>`);
    expect(users).toContain(`GRANT SELECT ON ${String(env.CLICKHOUSE_DATABASE)}.*`);
    const infra = parseEnvFile(path.join(COMPOSE_DIR, 'infra.secrets.env'));
    for (const v of xmlFromEnv(users)) expect({ [v]: infra[v] !== undefined }).toEqual({ [v]: true });
  });

  it('the ports published are the ports the roles listen on, on 127.0.0.1 unless TIDEMARK_PUBLISH_ADDRESS / GRAFANA_PUBLISH_ADDRESS say otherwise', () => {
    const compose = loadCompose(BASE);
    const open = loadComposeWith({ TIDEMARK_PUBLISH_ADDRESS: '0.0.0.0', GRAFANA_PUBLISH_ADDRESS: '0.0.0.0' }, BASE);
    for (const [role, key] of [
      ['collector', 'COLLECTOR_PORT'],
      ['api', 'API_PORT'],
    ] as const) {
      const port = String(envOf(compose.services[role])[key]);
      expect(compose.services[role].ports).toEqual([`127.0.0.1:${port}:${port}`]);
      expect(open.services[role].ports).toEqual([`0.0.0.0:${port}:${port}`]);
    }
    expect(compose.services.grafana.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(open.services.grafana.ports).toEqual(['0.0.0.0:3000:3000']);
    expect(compose.services.clickhouse.ports).toEqual(['127.0.0.1:8123:8123']);
    // Every other service publishes nothing.
    const published = Object.entries(compose.services as Obj)
      .filter(([, s]) => (s as Obj).ports)
      .map(([n]) => n)
      .sort();
    expect(published).toEqual(['api', 'clickhouse', 'collector', 'grafana']);
    // The loopback rule of composeProblems (negative check): asked for every interface, it reports each port.
    const problems = composeProblems(open, 'open', ROLES).join('\n');
    for (const svc of ['collector', 'api', 'grafana']) expect(problems).toMatch(new RegExp(`service ${svc}: port .* is published on every interface`));
  });

  it('ClickHouse backups volumes are handed to the clickhouse user before the server starts', () => {
    for (const files of COMBINATIONS) {
      const compose = loadCompose(...files);
      const init = compose.services['clickhouse-backups-init'] as Obj;
      expect(init.user).toBe('0:0');
      expect(init.restart).toBe('no');
      expect(String(init.image)).toBe(String(compose.services.clickhouse.image));
      expect(compose.services.clickhouse.depends_on['clickhouse-backups-init']).toEqual({ condition: 'service_completed_successfully' });
    }
    const cluster = loadCompose(BASE, CLUSTER);
    expect(cluster.services['clickhouse-backups-init'].entrypoint).toEqual(['chown', 'clickhouse:clickhouse', '/backups', '/backups-replica-2']);
    expect(cluster.services['clickhouse-replica-2'].depends_on['clickhouse-backups-init']).toEqual({ condition: 'service_completed_successfully' });
    // Negative checks: a server that does not wait for it, an init that runs as the default user.
    const broken = clone(loadCompose(BASE, CLUSTER));
    delete broken.services['clickhouse-replica-2'].depends_on['clickhouse-backups-init'];
    expect(composeProblems(broken, 'broken', ROLES).join('\n')).toMatch(
      /service clickhouse-replica-2: volume clickhouse-replica-2-backups at \/backups \(the backups disk\) is not made writable/,
    );
    const asUser = clone(loadCompose(BASE));
    delete asUser.services['clickhouse-backups-init'].user;
    expect(composeProblems(asUser, 'broken', ROLES).join('\n')).toMatch(/service clickhouse: volume clickhouse-backups at \/backups/);
  });

  it('the role image is built: build target roles (no chDB)', () => {
    for (const [name, svc] of tidemarkServices(loadCompose(BASE))) expect({ name, target: svc.build.target }).toEqual({ name, target: 'roles' });
  });

  it('Kafka runs the version the test suite uses (scripts/services/kafka/pom.xml)', () => {
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read(path.join(REPO, 'scripts', 'services', 'kafka', 'pom.xml')))?.[1];
    expect(version).toBeDefined();
    for (const files of [[BASE], [BASE, KAFKA3]]) {
      const services = loadCompose(...files).services as Obj;
      const kafka = (Object.entries(services) as [string, Obj][]).filter(([, s]) => String(s.image).startsWith('apache/kafka'));
      expect(kafka.length).toBeGreaterThan(0);
      for (const [name, s] of kafka) expect({ name, image: s.image }).toEqual({ name, image: `apache/kafka:${version}` });
    }
  });

  it('3-broker variant: three KRaft voters, replication factor 3, min.insync.replicas 2', () => {
    const compose = loadCompose(BASE, KAFKA3);
    const kafka = Object.entries(compose.services as Obj).filter(([, s]) => String((s as Obj).image).startsWith('apache/kafka:')) as [string, Obj][];
    expect(kafka.map(([n]) => n).sort()).toEqual(['kafka', 'kafka-2', 'kafka-3']);
    const ids = kafka.map(([, s]) => envOf(s).KAFKA_NODE_ID);
    expect(new Set(ids).size).toBe(3);
    for (const [name, s] of kafka) {
      const env = envOf(s);
      const voters = String(env.KAFKA_CONTROLLER_QUORUM_VOTERS).split(',');
      expect(voters.map((v) => v.split('@')[1]!.split(':')[0]).sort()).toEqual(['kafka', 'kafka-2', 'kafka-3']);
      expect(voters).toContain(`${String(env.KAFKA_NODE_ID)}@${name}:9093`);
      expect(env.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${name}:9092`);
      expect(env.KAFKA_MIN_INSYNC_REPLICAS).toBe('2');
      expect(env.KAFKA_DEFAULT_REPLICATION_FACTOR).toBe('3');
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('3');
      expect(env.CLUSTER_ID).toBe(envOf(compose.services.kafka).CLUSTER_ID);
      // Each node keeps its own log.
      expect((s.volumes as string[]).some((v) => v.endsWith(':/var/lib/kafka/data') && v.startsWith(`${name === 'kafka' ? 'kafka-1' : name}-data`))).toBe(true);
    }
    // Every Tidemark service (migrate and every role, monitor, etl and alerting included) knows all three.
    const tm = tidemarkServices(compose);
    expect(tm.map(([n]) => n).sort()).toEqual(['migrate', ...ROLES].sort());
    for (const [role, svc] of tm) {
      const env = envOf(svc);
      expect({ role, rf: env.KAFKA_REPLICATION_FACTOR }).toEqual({ role, rf: '3' });
      expect({
        role,
        brokers: String(env.KAFKA_BROKERS)
          .split(',')
          .map((b) => b.split(':')[0])
          .sort(),
      }).toEqual({ role, brokers: ['kafka', 'kafka-2', 'kafka-3'] });
    }
    // The broker rule of composeProblems (negative check): a role left on one broker is reported.
    const broken = clone(compose);
    broken.services.monitor.environment.KAFKA_BROKERS = 'kafka:9092';
    expect(composeProblems(broken, 'broken', ROLES).join('\n')).toMatch(/service monitor: KAFKA_BROKERS lists kafka, the brokers are kafka, kafka-2, kafka-3/);
  });
});

describe('ClickHouse cluster variant', () => {
  const clusterXml = read(path.join(DEPLOY, 'clickhouse-cluster', 'config.d', 'cluster.xml'));
  const keeperXml = read(path.join(DEPLOY, 'clickhouse-cluster', 'keeper', 'keeper_config.xml'));
  const distributed = read(path.join(DEPLOY, 'clickhouse-cluster', 'distributed.sql'));
  const compose = loadCompose(BASE, CLUSTER);
  const services = compose.services as Obj;
  const clusterName = /<remote_servers>\s*<([A-Za-z_][\w-]*)>/.exec(clusterXml.replace(/<!--[\s\S]*?-->/g, ''))?.[1];

  it('the XML files are well-formed', () => {
    expect(xmlProblems(clusterXml, 'cluster.xml')).toEqual([]);
    expect(xmlProblems(keeperXml, 'keeper_config.xml')).toEqual([]);
    expect(xmlProblems('<a><b></a></b>', 'broken.xml')).not.toEqual([]); // negative check
  });

  it('CLICKHOUSE_CLUSTER of every Tidemark service names the cluster of remote_servers', () => {
    expect(clusterName).toBe('tidemark');
    for (const role of ['migrate', ...ROLES]) expect({ role, cluster: envOf(services[role]).CLICKHOUSE_CLUSTER }).toEqual({ role, cluster: clusterName });
  });

  it('macros {shard} and {replica} come from each node, and every replica of remote_servers is a ClickHouse service', () => {
    expect(clusterXml).toMatch(/<shard from_env="TIDEMARK_CH_SHARD"\/>/);
    expect(clusterXml).toMatch(/<replica from_env="TIDEMARK_CH_REPLICA"\/>/);
    const hosts = xmlAll(xmlAll(clusterXml, 'remote_servers')[0]!, 'host');
    expect(hosts.length).toBeGreaterThanOrEqual(2);
    const replicas = new Set<string>();
    for (const h of hosts) {
      const svc = services[h] as Obj | undefined;
      expect({ host: h, image: String(svc?.image) }).toEqual({ host: h, image: expect.stringMatching(/^clickhouse\/clickhouse-server:/) });
      expect(svc!.hostname).toBe(h);
      const env = envOf(svc!);
      expect(env.TIDEMARK_CH_SHARD).toBeDefined();
      replicas.add(`${String(env.TIDEMARK_CH_SHARD)}/${String(env.TIDEMARK_CH_REPLICA)}`);
      expect((svc!.volumes as string[]).some((v) => v.includes('clickhouse-cluster/config.d/cluster.xml'))).toBe(true);
      expect(svc!.env_file).toContain('infra.secrets.env');
    }
    expect(replicas.size).toBe(hosts.length); // {shard}/{replica} unique per node
  });

  it('three Keeper nodes, each a raft server with its own id, and each the servers know', () => {
    const keeperHosts = xmlAll(keeperXml, 'hostname');
    expect(keeperHosts.sort()).toEqual(['clickhouse-keeper-1', 'clickhouse-keeper-2', 'clickhouse-keeper-3']);
    const zkHosts = xmlAll(xmlAll(clusterXml, 'zookeeper')[0]!, 'host');
    expect(zkHosts.sort()).toEqual(keeperHosts);
    const ids = xmlAll(keeperXml, 'id');
    for (const [i, h] of keeperHosts.entries()) {
      const svc = services[h] as Obj;
      expect(svc.hostname).toBe(h);
      expect(String(envOf(svc).KEEPER_SERVER_ID)).toBe(ids[xmlAll(keeperXml, 'hostname').indexOf(h)]);
      expect(svc.healthcheck).toBeDefined();
      expect(i).toBeLessThan(3);
    }
    expect(xmlFromEnv(keeperXml)).toEqual(['KEEPER_SERVER_ID']);
    const infra = parseEnvFile(path.join(COMPOSE_DIR, 'infra.secrets.env'));
    for (const v of xmlFromEnv(clusterXml).filter((v) => !/SHARD|REPLICA/.test(v))) expect({ v, set: infra[v] !== undefined }).toEqual({ v, set: true });
  });

  it('distributed.sql: one Distributed table over every raw and rollup table, on the same cluster', () => {
    const tables = migrationTables();
    const local = [...tables].filter(([, t]) => /MergeTree$/.test(t.engine) && /project_id/.test(t.columns)).map(([n]) => n);
    expect(local.length).toBeGreaterThan(10);
    const stmts = distributed
      .replace(/--[^\n]*/g, '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    const covered: string[] = [];
    for (const s of stmts) {
      const m =
        /^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)_dist ON CLUSTER '([\w-]+)'\s+AS \1\.(\w+)\s+ENGINE = Distributed\('([\w-]+)', '(\w+)', '(\w+)', (cityHash64\(project_id\)|rand\(\))\)$/.exec(
          s,
        );
      expect({ statement: s.slice(0, 80), parsed: !!m }).toEqual({ statement: s.slice(0, 80), parsed: true });
      const [, db, name, onCluster, asTable, cluster, db2, target] = m!;
      expect([name, asTable, target]).toEqual([target, target, target]);
      expect([onCluster, cluster]).toEqual([clusterName, clusterName]);
      expect(db2).toBe(db);
      expect(db).toBe(String(envOf(services.collector).CLICKHOUSE_DATABASE));
      expect(tables.has(target!)).toBe(true);
      covered.push(target!);
    }
    expect(covered.sort()).toEqual(local.sort());
  });
});

describe('Kubernetes manifests', () => {
  const objects = loadK8s();
  const MODELS: Record<string, new (data: any) => { validate(): void }> = {
    'v1/Namespace': Namespace,
    'v1/ConfigMap': ConfigMap,
    'v1/Secret': Secret,
    'v1/Service': Service,
    'apps/v1/Deployment': Deployment,
    'batch/v1/Job': Job,
    'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  };
  const validate = (o: K8sObject): string | null => {
    const Ctor = MODELS[`${o.obj.apiVersion}/${o.obj.kind}`];
    if (!Ctor) return `${o.file}: ${o.obj.apiVersion} ${o.obj.kind} has no model here (add it to MODELS)`;
    try {
      new Ctor(o.obj).validate();
      return null;
    } catch (err) {
      return `${o.file} ${o.obj.kind}/${o.obj.metadata?.name}: ${(err as Error).message}`;
    }
  };

  it.each(objects.map((o) => [`${o.obj.kind}/${o.obj.metadata?.name}`, o]))('%s is valid against the Kubernetes API schema', (_n, o) => {
    expect(validate(o as K8sObject)).toBeNull();
  });

  it('the schema validation rejects broken objects (negative check)', () => {
    const dep = clone(objects.find((o) => o.obj.kind === 'Deployment')!);
    dep.obj.spec.replicas = 'two';
    expect(validate(dep)).toMatch(/replicas must be integer/);
    const hpa = clone(objects.find((o) => o.obj.kind === 'HorizontalPodAutoscaler')!);
    delete hpa.obj.spec.scaleTargetRef;
    expect(validate(hpa)).toMatch(/scaleTargetRef/);
  });

  it('kustomization.yaml lists every manifest, and every listed file exists', () => {
    const k = parseYaml(path.join(K8S_DIR, 'kustomization.yaml'));
    const files = walk(K8S_DIR)
      .map((f) => path.basename(f))
      .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...(k.resources as string[])].sort()).toEqual(files.sort());
    expect((k.images as Obj[]).map((i) => i.name)).toEqual(['tidemark']);
  });

  it('Deployments have probes and resources, HPAs target Deployments, Services select pods, env keys exist', () => {
    expect(k8sProblems(objects, ROLES)).toEqual([]);
  });

  it('the cross-object checks catch broken manifests (negative check)', () => {
    const broken = clone(objects);
    const api = broken.find((o) => o.obj.kind === 'Deployment' && o.obj.metadata.name === 'tidemark-api')!;
    const c = api.obj.spec.template.spec.containers[0];
    c.livenesProbe = c.livenessProbe; // a typo: the probe is gone
    delete c.livenessProbe;
    delete c.resources.limits;
    c.env = [{ name: 'KAFKA_BROKER', value: 'kafka:9092' }];
    broken.find((o) => o.obj.kind === 'HorizontalPodAutoscaler')!.obj.spec.scaleTargetRef.name = 'tidemark-nothing';
    broken.find((o) => o.obj.kind === 'Service')!.obj.spec.selector = { 'app.kubernetes.io/component': 'nobody' };
    broken.find((o) => o.obj.kind === 'ConfigMap')!.obj.data.CLICKHOUSE_PASSWORD = 'oops';
    const consumer = broken.find((o) => o.obj.metadata.name === 'tidemark-consumer')!;
    consumer.obj.spec.template.spec.containers[0].args = ['start', '--role', 'nosuchrole'];
    consumer.obj.spec.template.spec.containers[0].livenessProbe = { exec: { command: ['node', '/app/deploy/docker/healthcheck.cjs'] } };
    consumer.obj.spec.template.spec.containers[0].readinessProbe.httpGet.path = '/health';
    consumer.obj.spec.template.spec.containers[0].ports[0].containerPort = 9000;
    broken.find((o) => o.obj.kind === 'Deployment' && o.obj.metadata.name === 'tidemark-collector')!.obj.spec.replicas = 2;
    const problems = k8sProblems(broken, ROLES).join('\n');
    expect(problems).toMatch(/unknown container field livenesProbe/);
    expect(problems).toMatch(/no livenessProbe/);
    expect(problems).toMatch(/no resources\.limits\.cpu/);
    expect(problems).toMatch(/KAFKA_BROKER is not a key/);
    expect(problems).toMatch(/scaleTargetRef Deployment\/tidemark-nothing is not a Deployment/);
    expect(problems).toMatch(/matches no Deployment's pods/);
    expect(problems).toMatch(/ConfigMap\/tidemark-config: CLICKHOUSE_PASSWORD is a secret/);
    expect(problems).toMatch(/role nosuchrole does not exist/);
    expect(problems).toMatch(/role consumer .* has no Deployment/);
    expect(problems).toMatch(/tidemark-consumer .* livenessProbe is not an httpGet probe \(exec\)/);
    expect(problems).toMatch(/tidemark-consumer .* readinessProbe asks \/health, expected \/ready/);
    expect(problems).toMatch(/tidemark-consumer .* port ops is 9000, OPS_PORT is 9464/);
    expect(problems).toMatch(
      /Deployment\/tidemark-collector .*: spec.replicas is set, but HorizontalPodAutoscaler\/tidemark-collector .* manages the replica count/,
    );
  });

  it('HPA-managed Deployments leave replicas to the HPA; the others probe the ops server over HTTP', () => {
    const hpaTargets = objects
      .filter((o) => o.obj.kind === 'HorizontalPodAutoscaler')
      .map((o) => o.obj.spec.scaleTargetRef.name as string)
      .sort();
    expect(hpaTargets).toEqual(['tidemark-api', 'tidemark-collector']);
    for (const o of objects.filter((x) => x.obj.kind === 'Deployment')) {
      const c = o.obj.spec.template.spec.containers[0];
      if (hpaTargets.includes(o.obj.metadata.name))
        expect({ d: o.obj.metadata.name, replicas: o.obj.spec.replicas }).toEqual({ d: o.obj.metadata.name, replicas: undefined });
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        expect({ d: o.obj.metadata.name, probe, http: !!c[probe]?.httpGet }).toEqual({ d: o.obj.metadata.name, probe, http: true });
    }
  });

  // The real tool where it is installed (kubectl bundles kustomize); the checks above do not need it.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  (kubectl ? it : it.skip)(
    'kubectl kustomize builds the directory: the objects above, in namespace tidemark',
    () => {
      const r = spawnSync('kubectl', ['kustomize', K8S_DIR], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const built = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
      expect(built.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(objects.map((o) => `${o.obj.kind}/${o.obj.metadata.name}`).sort());
      for (const o of built.filter((x) => x.kind !== 'Namespace'))
        expect({ o: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({ o: `${o.kind}/${o.metadata.name}`, ns: 'tidemark' });
      expect(
        k8sProblems(
          built.map((obj) => ({ file: 'kubectl kustomize', obj })),
          ROLES,
        ),
      ).toEqual([]);
    },
    60_000,
  );

  it('no stale comments: nothing says the ops server is not wired into a role yet', () => {
    for (const f of [...walk(K8S_DIR), path.join(COMPOSE_DIR, BASE), path.join(DEPLOY, 'docker', 'healthcheck.cjs')]) {
      expect({ f: rel(f), stale: /not wired|until the ops server|once it is, httpGet/i.test(read(f)) }).toEqual({ f: rel(f), stale: false });
    }
  });

  it('the namespace enforces the restricted pod security standard the pods are written for', () => {
    const ns = objects.find((o) => o.obj.kind === 'Namespace')!.obj;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects.filter((x) => x.obj.kind === 'Deployment' || x.obj.kind === 'Job')) {
      const spec = o.obj.spec.template.spec;
      expect(spec.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      for (const c of spec.containers) expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read(path.join(DEPLOY, 'Dockerfile'));
  const ignore = readDockerignore(path.join(DEPLOY, 'Dockerfile.dockerignore'));

  it('is multi-stage, installs with npm ci, builds with turbo, runs production deps as non-root with a HEALTHCHECK and tini', () => {
    expect(dockerfileProblems(dockerfile, ignore)).toEqual([]);
  });

  it('rejects a Dockerfile without USER, with a missing COPY source or an unknown ENV key (negative check)', () => {
    const broken = dockerfile
      .replace(/^USER node$/m, '')
      .replace('COPY deploy/docker/healthcheck.cjs ./deploy/docker/healthcheck.cjs', 'COPY deploy/docker/no-such-file.cjs ./deploy/docker/no-such-file.cjs')
      .replace('TIDEMARK_HOST=0.0.0.0', 'TIDEMARK_BIND=0.0.0.0');
    const problems = dockerfileProblems(broken, ignore).join('\n');
    expect(problems).toMatch(/sets no USER/);
    expect(problems).toMatch(/COPY source deploy\/docker\/no-such-file\.cjs does not exist/);
    expect(problems).toMatch(/TIDEMARK_BIND is not a key/);
    expect(problems).toMatch(/HEALTHCHECK runs \/app\/deploy\/docker\/healthcheck\.cjs, which no COPY puts there/);
  });

  it('the ignore file keeps what the build needs and drops secrets, node_modules and build output', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      'turbo.json',
      'tsconfig.base.json',
      'packages/core/src/index.ts',
      'packages/core/sql',
      'packages/alerting/sql',
      'packages/etl/sql',
      'packages/api/sql',
      'clickhouse/0001_events.sql',
      'deploy/docker/healthcheck.cjs',
    ]) {
      expect({ needed, ignored: dockerIgnored(ignore, needed) }).toEqual({ needed, ignored: false });
    }
    for (const dropped of [
      'node_modules/yaml/index.js',
      'packages/core/node_modules/x',
      'packages/core/dist/index.js',
      '.git/HEAD',
      'deploy/compose/tidemark.secrets.env',
      'deploy/compose/infra.secrets.env',
      'data/clickhouse',
    ]) {
      expect({ dropped, ignored: dockerIgnored(ignore, dropped) }).toEqual({ dropped, ignored: true });
    }
  });

  it('every workspace package reaches the deps stage (COPY packages, then only package.json files are kept)', () => {
    expect(dockerfile).toMatch(/^COPY packages \.\/packages$/m);
    expect(dockerfile).toMatch(/find packages -mindepth 2 -maxdepth 2 ! -name package\.json -exec rm -rf \{\} \+/);
  });
});

describe('Grafana', () => {
  const dsFile = path.join(DEPLOY, 'grafana', 'provisioning', 'datasources', 'clickhouse.yaml');
  const ds = (parseYaml(dsFile).datasources as Obj[])[0]!;
  const provider = (parseYaml(path.join(DEPLOY, 'grafana', 'provisioning', 'dashboards', 'tidemark.yaml')).providers as Obj[])[0]!;
  const tables = migrationTables();
  const ctx: GrafanaContext = {
    datasourceUid: ds.uid,
    tables: new Set([...tables.keys(), ...etlTables()]),
    unscoped: new Set([...tables].filter(([, t]) => !/project_id/.test(t.columns)).map(([n]) => n)),
  };
  const dashFiles = walk(path.join(DEPLOY, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
  const dashboards = dashFiles.map((f) => ({ file: rel(f), dash: JSON.parse(read(f)) as Obj }));
  const compose = loadCompose(BASE);

  it('the data source is the ClickHouse plugin, as the read-only user, on the compose ClickHouse', () => {
    expect(ds.type).toBe('grafana-clickhouse-datasource');
    const env = envOf(compose.services.api);
    expect(ds.jsonData.username).toBe(env.CLICKHOUSE_READONLY_USER);
    expect(ds.jsonData.defaultDatabase).toBe(env.CLICKHOUSE_DATABASE);
    expect(Object.keys(compose.services)).toContain(ds.jsonData.host);
    expect(['native', 'http']).toContain(ds.jsonData.protocol);
    // The password comes from Grafana's environment, which the infra secrets provide.
    const ref = /^\$\{([A-Z_]+)\}$/.exec(ds.secureJsonData.password)?.[1];
    expect(ref).toBeDefined();
    expect(compose.services.grafana.env_file).toContain('infra.secrets.env');
    expect(parseEnvFile(path.join(COMPOSE_DIR, 'infra.secrets.env'))[ref!]).toBeDefined();
  });

  it('compose mounts the provisioning and the dashboards where the provider reads them', () => {
    const vols = compose.services.grafana.volumes as string[];
    expect(vols).toContain('../grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(vols).toContain(`../grafana/dashboards:${String(provider.options.path)}:ro`);
    expect(envOf(compose.services.grafana).GF_PLUGINS_PREINSTALL_SYNC).toBe(ds.type);
  });

  it('has the Overview, Events, Metrics/system health, Business and Health dashboards with unique uids', () => {
    const uids = dashboards.map((d) => d.dash.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.sort()).toEqual(['tidemark-business', 'tidemark-events', 'tidemark-health', 'tidemark-overview', 'tidemark-system']);
  });

  it.each(dashboards.map((d) => [d.file, d]))('%s: every panel has a query over existing tables, scoped by project', (_f, d) => {
    const { file, dash } = d as { file: string; dash: Obj };
    expect(dashboardProblems(file, dash, ctx)).toEqual([]);
  });

  it('the required views are there: events/s, ingest lag, top events, HTTP percentiles and errors, orders and revenue, health', () => {
    const sqlOf = (uid: string): string => JSON.stringify(dashboards.find((d) => d.dash.uid === uid)!.dash);
    expect(sqlOf('tidemark-overview')).toMatch(/events_per_second/);
    expect(sqlOf('tidemark-overview')).toMatch(/kafka_consumer_lag/);
    expect(sqlOf('tidemark-overview')).toMatch(/Top events/);
    for (const m of ['system_cpu_percent', 'system_memory_percent', 'system_disk_used_percent', 'http_requests_total', 'http_request_duration_ms'])
      expect(sqlOf('tidemark-system')).toContain(`'${m}'`);
    expect(sqlOf('tidemark-business')).toMatch(/biz_orders_v1 FINAL/);
    for (const m of ['healthcheck_up', 'db_up', 'kafka_consumer_lag']) expect(sqlOf('tidemark-health')).toContain(`'${m}'`);
  });

  it('the dashboard checker rejects an unknown table, an unscoped query and an unknown variable (negative check)', () => {
    const dash = clone(dashboards[0]!.dash);
    dash.panels[0].targets[0].rawSql = 'SELECT count() FROM events_raw_v2 WHERE $__timeFilter(timestamp)';
    dash.panels[1].targets[0].rawSql = 'SELECT count() FROM events_1m_v1 WHERE $__timeFilter(bucket) AND name = ${nosuchvar:singlequote}';
    dash.panels[2].targets = [];
    const problems = dashboardProblems('broken.json', dash, ctx).join('\n');
    expect(problems).toMatch(/table events_raw_v2 is not created/);
    expect(problems).toMatch(/reads a tenant table without project_id/);
    expect(problems).toMatch(/uses variable nosuchvar/);
    expect(problems).toMatch(/no query/);
  });

  it('macro expansion leaves no Grafana syntax behind (what the integration test runs)', () => {
    for (const { dash } of dashboards) {
      for (const p of dash.panels as Obj[]) {
        for (const t of p.targets as Obj[]) {
          const sql = expandGrafanaSql(t.rawSql, {
            from: 0,
            to: 3_600_000,
            intervalS: 60,
            vars: { project: ['p'], event: 'all', host: 'all', service: ['web'] },
          });
          expect(sql).not.toMatch(/\$/);
          expect(tablesOf(sql).length).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('the deployment guide', () => {
  const guideFile = path.join(REPO, 'docs', 'deployment.md');
  const guide = fs.existsSync(guideFile) ? read(guideFile) : '';

  it('exists and covers sizing, scaling, upgrading, backups and each variant', () => {
    for (const heading of ['Sizing', 'Scaling', 'Upgrading', 'Backups', 'ClickHouse cluster', 'Kafka: 3 brokers', 'Grafana', 'Kubernetes']) {
      expect({ heading, found: new RegExp(`^#+ .*${heading}`, 'm').test(guide) }).toEqual({ heading, found: true });
    }
    for (const term of ['BACKUP', 'pg_dump', 'retention', 'tidemark migrate', 'distributed.sql']) expect(guide).toContain(term);
  });

  it('names every deploy file it documents by an existing path', () => {
    const paths = [...guide.matchAll(/`(deploy\/[A-Za-z0-9_./-]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(5);
    for (const p of paths) expect({ p, exists: fs.existsSync(path.join(REPO, p)) }).toEqual({ p, exists: true });
  });
});
