import { z } from 'zod';

/** Env strings "true/1/yes/on" and "false/0/no/off" as booleans. */
const envBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v)));

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.string().url();
/**
 * A setting holding JSON (a map of prices, of secrets, ...): env strings are
 * parsed, an empty string means an empty object, a config file may give the
 * object itself. Text that is not JSON reaches the schema as text, so the
 * error names the key with the schema's message.
 */
const jsonEnv = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    if (v.trim() === '') return {};
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

/** Unset and empty mean the same: not configured. */
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * Every setting of every Tidemark role, by its environment variable name.
 * A config file (TIDEMARK_CONFIG, YAML or JSON) may set the same keys; the
 * environment wins. Parsed once at start; a bad value fails start with the
 * key named.
 */
export const configSchema = z.object({
  // --- general -------------------------------------------------------------
  /** development | production | test; production turns off pretty defaults. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where embedded engines keep their data (chDB, PGlite). Kept across restarts. */
  TIDEMARK_DATA_DIR: z.string().min(1).default('./data'),
  /** Address every HTTP listener of the platform binds to. */
  TIDEMARK_HOST: z.string().min(1).default('127.0.0.1'),
  /** How long a graceful shutdown may take before the process exits anyway (ms). */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  /** How long a starting process waits for ClickHouse and the metadata Postgres to answer (ms), retrying with backoff; they may start after it (compose, Kubernetes). 0: fail at once. */
  STARTUP_WAIT_MS: z.coerce.number().int().min(0).default(120_000),

  // --- ClickHouse ----------------------------------------------------------
  /** ClickHouse HTTP URL of a server or cluster. Unset: the embedded chDB engine is started and served on EMBEDDED_CLICKHOUSE_PORT. */
  CLICKHOUSE_URL: optional(url),
  /** ClickHouse user of the platform's own reads and writes. */
  CLICKHOUSE_USER: z.string().min(1).default('default'),
  /** Its password (redacted from logs). */
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /** Database holding every Tidemark table. */
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('tidemark'),
  /** Cluster name: when set, migrations run ON CLUSTER with Replicated engines. */
  CLICKHOUSE_CLUSTER: optional(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a plain identifier')),
  /** Read-only ClickHouse user for analyst SQL and rule SQL. */
  CLICKHOUSE_READONLY_USER: z.string().min(1).default('tidemark_readonly'),
  /** Its password (redacted from logs). */
  CLICKHOUSE_READONLY_PASSWORD: z.string().default(''),
  /** Per-request timeout of the ClickHouse client (ms). */
  CLICKHOUSE_REQUEST_TIMEOUT_MS: positiveInt.default(60_000),
  /** Port of the embedded ClickHouse HTTP interface (0 = any free port). */
  EMBEDDED_CLICKHOUSE_PORT: port.default(8123),
  /** Days raw events, metric samples and logs are kept (rollups are kept forever). */
  RAW_RETENTION_DAYS: positiveInt.default(90),

  // --- metadata Postgres ---------------------------------------------------
  /** Postgres URL for rules, alert state, outbox, API keys and checkpoints. Unset: embedded PGlite served on EMBEDDED_POSTGRES_PORT. */
  META_DATABASE_URL: optional(url),
  /** Port of the embedded PGlite Postgres wire server (0 = any free port). */
  EMBEDDED_POSTGRES_PORT: port.default(5433),
  /** Connections in each role's Postgres pool. */
  META_DATABASE_POOL_SIZE: positiveInt.default(10),

  // --- Kafka ---------------------------------------------------------------
  /** Comma-separated Kafka bootstrap brokers. Unset: embedded mode, the collector writes to ClickHouse directly. */
  KAFKA_BROKERS: optional(z.string().regex(/^[^,\s]+(,[^,\s]+)*$/, 'must be host:port[,host:port...]')),
  /** Client id Kafka sees from this process. */
  KAFKA_CLIENT_ID: z.string().min(1).default('tidemark'),
  /** Prefix of every Tidemark topic, e.g. "tidemark." gives tidemark.events. */
  KAFKA_TOPIC_PREFIX: z.string().default('tidemark.'),

  // --- Redis ---------------------------------------------------------------
  /** Redis URL for caches and realtime counters. Unset: an in-process store. */
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')),

  // --- HTTP roles ----------------------------------------------------------
  /** Port of the collector's ingest API. */
  COLLECTOR_PORT: port.default(4318),
  /** Port of the query API and dashboard. */
  API_PORT: port.default(4000),

  // --- embedded demo -------------------------------------------------------
  /** Demo data on every dashboard page (what `tidemark start --demo` sets): the ETL demo source (ETL_DEMO), a steady flow of product events, service metrics and logs through this process's collector into the project "default" (two days of history on the first demo start), health checks of the platform's own endpoints, and two demo alert rules that fire on that traffic. */
  TIDEMARK_DEMO: envBool.default(false),

  // --- ingestion (packages/collector) --------------------------------------
  /** Largest ingest request body in bytes, after decompression (answered with 413 above it). */
  COLLECTOR_MAX_BODY_BYTES: positiveInt.default(8 * 1024 * 1024),
  /** Largest single event, metric sample or log line in bytes, measured on the row as stored (413 above it); stays below Kafka's message limit. */
  COLLECTOR_MAX_ITEM_BYTES: positiveInt.default(256 * 1024),
  /** Most items in one ingest request. */
  COLLECTOR_MAX_ITEMS: positiveInt.default(20_000),
  /** Items per second a project may send (429 with Retry-After above it); 0 turns the limit off. */
  COLLECTOR_RATE_LIMIT_PER_SEC: z.coerce.number().int().min(0).default(500_000),
  /** Timestamps further than this in the future (ms, after clock-skew correction) are clamped and a warning recorded. */
  COLLECTOR_FUTURE_TOLERANCE_MS: positiveInt.default(300_000),
  /** Embedded mode: how long concurrent requests are gathered into one ClickHouse insert (ms). */
  COLLECTOR_FLUSH_INTERVAL_MS: positiveInt.default(100),
  /** Embedded mode: an insert is started once this many rows wait. */
  COLLECTOR_FLUSH_MAX_ROWS: positiveInt.default(100_000),
  /** Embedded mode: rows allowed to wait for ClickHouse before requests get 503 (bounds memory). */
  COLLECTOR_MAX_PENDING_ROWS: positiveInt.default(1_000_000),
  /** Events whose client-chosen event_id the collector accepted less than this long ago are dropped as resends, so a retry after a lost answer is not counted twice in the rollups (ms; 0 = off). Shared through Redis when REDIS_URL is set, per process otherwise. */
  COLLECTOR_RESEND_WINDOW_MS: z.coerce.number().int().min(0).default(120_000),
  /** Event ids remembered per project per half-window at most (memory bound: about 100 bytes each in embedded mode); past it the window is shorter for that period. */
  COLLECTOR_RESEND_MAX_IDS: positiveInt.default(500_000),
  /** Compression of the messages the collector produces: none or gzip. */
  KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
  /** Client of the collector's and the consumer's producers: kafkajs, or platformatic (@platformatic/kafka, opt-in, docs/benchmarks.md "Kafka client"). Consumers and admin are kafkajs. */
  KAFKA_PRODUCER_CLIENT: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
  /** Partitions of each topic the platform creates (the consumer group scales up to this many consumers). */
  KAFKA_TOPIC_PARTITIONS: positiveInt.default(6),
  /** Replication factor of the topics the platform creates (3 in production; 1 on a single broker). */
  KAFKA_REPLICATION_FACTOR: positiveInt.default(1),
  /** Consumer group of the ClickHouse landing consumers. */
  CONSUMER_GROUP_ID: z.string().min(1).default('tidemark-ingest'),
  /** Bytes fetched per partition at most: the size bound of one batch and one insert. */
  CONSUMER_MAX_BYTES_PER_PARTITION: positiveInt.default(8 * 1024 * 1024),
  /** A fetch returns once this many bytes are there or CONSUMER_MAX_WAIT_MS passed. Larger fetches make larger inserts, and ClickHouse's cost per insert is mostly fixed (docs/ingestion.md): 2 MiB / 500 ms took bench-ingest's Kafka path from 21k to 27k events/s against 512 KiB / 250 ms. */
  CONSUMER_MIN_BYTES: positiveInt.default(2 * 1024 * 1024),
  /** Longest a fetch waits for CONSUMER_MIN_BYTES (ms): the time bound of a batch, and so the added latency at low traffic. */
  CONSUMER_MAX_WAIT_MS: positiveInt.default(500),
  /** Consumer session timeout (ms): how soon a crashed consumer's partitions move to another one. */
  CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000),
  // (collector keys go above this line)

  // --- query API (packages/api) ---
  /** AI cost estimate (ai/usage, ai/quota, ai/roi): token prices as JSON {"model": [input, output]}, in API_AI_CURRENCY per million prompt and completion tokens. A model takes the price of its longest listed prefix; the key "default" prices every other model. Entries add to or replace the built-in USD table (docs/api.md); a project overrides single models with PUT /api/analytics-monitoring/ai/prices. */
  API_AI_TOKEN_PRICES: jsonEnv(
    z.record(z.string().min(1).max(200), z.tuple([z.number().min(0), z.number().min(0)]), {
      error: 'must be a JSON object of "model": [input, output] prices per million tokens',
    }),
  ).default({}),
  /** Currency (ISO 4217) of token prices and of the ROI cost model. The built-in token prices are USD: set API_AI_TOKEN_PRICES too when you change it. */
  API_AI_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY')
    .default('USD'),
  /** Monthly token quota of a project that has none of its own (PUT /api/analytics-monitoring/ai/settings); 0 = no quota. */
  API_AI_MONTHLY_TOKEN_QUOTA: z.coerce.number().int().min(0).default(0),
  /** Day of the month (1-28) token quotas reset on, for projects that set none of their own. */
  API_AI_QUOTA_RESET_DAY: z.coerce.number().int().min(1).max(28).default(1),
  /** ROI cost model: what one conversation handled by a human agent costs, in API_AI_CURRENCY; each conversation the AI resolves alone saves this (projects may override). */
  API_ROI_COST_PER_HUMAN_CONVERSATION: z.coerce.number().min(0).default(2),
  /** ROI cost model: monthly cost of one human agent in API_AI_CURRENCY; divided by the cost per conversation it is an agent's monthly capacity, which gives the equivalent headcount (projects may override). */
  API_ROI_AGENT_MONTHLY_COST: z.coerce.number().positive().default(4000),
  /** Quality audits: score (0-100) at or above which an audit created or reviewed without an explicit status passes. */
  API_QUALITY_PASS_SCORE: z.coerce.number().int().min(0).max(100).default(80),
  /** Currency (ISO 4217) of the business tables' order amounts (biz_orders_v1.amount). The ETL copies amounts without a currency, so the API names this one with every amount it answers and the dashboard shows it; USD only because most demo and test data is priced in it — set the currency your source database records. */
  BUSINESS_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY')
    .default('USD'),
  /** Order statuses that count as net revenue (money actually received): comma-separated, matched exactly against biz_orders_v1.status. Gross revenue counts every order whatever its status; net excludes pending, cancelled and refunded orders. */
  BUSINESS_NET_ORDER_STATUSES: z
    .string()
    .default('paid,completed')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(z.string().max(200)).min(1, 'must list at least one order status')),
  /** Directory of the dashboard build the API serves at / (index.html and assets/). Unset: the dist/ of the installed @tidemark/web package (npm run build makes it). */
  API_DASHBOARD_DIR: optional(z.string().min(1)),

  // --- monitoring and SDK (packages/monitor) ---
  /** Port of the ops server (GET /health, /ready, /metrics) of a process running roles without an HTTP port of their own (consumer, alerting, etl, monitor); 0 = any free port. */
  OPS_PORT: port.default(9464),
  /** Collector the monitor sends its samples to. Unset: this platform's collector, http://TIDEMARK_HOST:COLLECTOR_PORT (set it when COLLECTOR_PORT is 0 or the collector runs elsewhere). */
  MONITOR_COLLECTOR_URL: optional(url),
  /** Ingest key the monitor sends with (redacted from logs). Unset: the monitor creates one for MONITOR_PROJECT on first start and keeps it in the data directory. */
  MONITOR_INGEST_KEY: optional(z.string().min(1)),
  /** Project the monitor's samples land in when it creates its own ingest key. */
  MONITOR_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a project id')
    .default('default'),
  /** How often system metrics are sampled (ms): CPU, memory, disks, network, load average, processes; 0 turns them off. */
  MONITOR_SYSTEM_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  /** Health-check targets, comma-separated, each [name=]URL: http(s)://... (up when it answers below 400) or tcp://host:port (up when it accepts). */
  MONITOR_HEALTHCHECK_TARGETS: z.string().default(''),
  /** How often each health-check target is checked (ms). */
  MONITOR_HEALTHCHECK_INTERVAL_MS: positiveInt.default(15_000),
  /** Longest a health check, database check or scrape waits for its target (ms); slower counts as down. */
  MONITOR_HEALTHCHECK_TIMEOUT_MS: positiveInt.default(5_000),
  /** Prometheus endpoints to scrape, comma-separated, each [job=]URL of a page in the text exposition format (usually /metrics). */
  MONITOR_SCRAPE_TARGETS: z.string().default(''),
  /** How often each Prometheus endpoint is scraped (ms). */
  MONITOR_SCRAPE_INTERVAL_MS: positiveInt.default(15_000),
  /** Postgres servers to watch, comma-separated, each [name=]postgres://URL: reachable, version, connections, slow statements (pg_stat_statements). */
  MONITOR_POSTGRES_URLS: z.string().default(''),
  /** ClickHouse servers to watch, comma-separated, each [name=]http(s)://[user:password@]host:port: ping, version, parts, merges, replication. */
  MONITOR_CLICKHOUSE_URLS: z.string().default(''),
  /** Redis servers to watch, comma-separated, each [name=]redis://URL: ping, memory, clients. */
  MONITOR_REDIS_URLS: z.string().default(''),
  /** One Kafka cluster whose consumer groups' lag is watched: [name=]host:port[,host:port...]. */
  MONITOR_KAFKA_BROKERS: z.string().default(''),
  /** How often the watched databases are checked (ms). */
  MONITOR_DATABASE_INTERVAL_MS: positiveInt.default(30_000),
  /** Also watch the platform's own stores: its ClickHouse, metadata Postgres, Kafka (lag of every consumer group) and Redis. */
  MONITOR_WATCH_PLATFORM: envBool.default(true),
  /** Postgres statements slower than this on average since the previous check (ms) are reported, where pg_stat_statements is installed. */
  MONITOR_PG_SLOW_STATEMENT_MS: positiveInt.default(500),
  /** Opt-in anonymous usage statistics: a daily heartbeat with the random install id, OS and Tidemark version, nothing else (docs/monitoring.md). Off unless set. */
  TIDEMARK_USAGE_STATS: envBool.default(false),
  /** Collector that receives the usage heartbeats (a Tidemark endpoint); needed when TIDEMARK_USAGE_STATS is on. */
  TIDEMARK_USAGE_STATS_URL: optional(url),
  /** Ingest key of the project collecting usage heartbeats at TIDEMARK_USAGE_STATS_URL (redacted from logs). */
  TIDEMARK_USAGE_STATS_KEY: z.string().default(''),
  // (monitoring keys go above this line)

  // --- alerting (packages/alerting) ----------------------------------------
  /** Folder of alert rule YAML files (kept in git): every .yaml / .yml file in it is loaded at start and reloaded when it changes. Unset: API-defined rules only. */
  ALERTING_RULES_DIR: optional(z.string().min(1)),
  /** Built-in example rules to turn on: "all", or a comma-separated list of their names (docs/alerting.md); empty = none. */
  ALERTING_BUILTIN_RULES: z
    .string()
    .regex(/^[A-Za-z0-9_, ]*$/, 'must be "all" or comma-separated rule names')
    .default(''),
  /** Project the enabled built-in rules (and their log route) belong to; it must exist. */
  ALERTING_BUILTIN_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a project id')
    .default('default'),
  /** Name of this alert engine replica in leases and delivery records; replicas must differ. Unset: the host name. */
  ALERTING_REPLICA_ID: optional(z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ . : -')),
  /** How often bree ticks the alert engine (ms): each tick evaluates due rules, groups new alert events, flushes due groups and sends due notifications. */
  ALERTING_TICK_MS: positiveInt.default(1000),
  /** How long a replica owns a claimed rule evaluation or notification send before another replica may take it over (ms). */
  ALERTING_LEASE_MS: positiveInt.default(60_000),
  /** Rule evaluations one replica runs at once. */
  ALERTING_EVAL_CONCURRENCY: positiveInt.default(8),
  /** Spread rules over their interval by a hash of their name (as Prometheus does), so rules loaded together do not all run at once; false aligns every rule to multiples of its interval. */
  ALERTING_SPREAD_EVALUATIONS: envBool.default(true),
  /** Upper bound of one rule query's run time (ms), sent as max_execution_time; a rule's own `timeout` may only be lower. */
  ALERTING_QUERY_TIMEOUT_MS: positiveInt.default(30_000),
  /** Most rows one rule query may return (max_result_rows); a bigger result puts the rule in its Error state. */
  ALERTING_MAX_ROWS: positiveInt.default(10_000),
  /** Timeout of one HTTP/SMTP send to a channel (ms). */
  ALERTING_SEND_TIMEOUT_MS: positiveInt.default(10_000),
  /** Immediate retries of a failed send (jittered backoff) before the notification is rescheduled durably. */
  ALERTING_SEND_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Longest wait between durable send rounds of a failing notification (ms); waits grow from 1 s with jitter. */
  ALERTING_RETRY_MAX_DELAY_MS: positiveInt.default(300_000),
  /** While a receiver fails, the oldest notification of its queue is tried again at least this often (jittered down to half), so deliveries resume within this long after it recovers; the rest of the queue follows as soon as one send succeeds (ms). */
  ALERTING_RECEIVER_PROBE_MS: positiveInt.default(2_000),
  /** true: a resolve that happens while its alert is silenced or in a maintenance window is sent when the mute ends to every route that got the firing; false: it is dropped. */
  ALERTING_SEND_RESOLVED_AFTER_MUTE: envBool.default(true),
  /** A notification still failing retriably this long after it was queued is marked failed and reported (ms). */
  ALERTING_GIVE_UP_AFTER_MS: positiveInt.default(86_400_000),
  /** Named channel secrets as a JSON object {"NAME": "value"}; channel configs reference them as ${NAME}. Redacted from logs. */
  ALERTING_SECRETS: jsonEnv(
    z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'secret names must be UPPER_SNAKE_CASE'), z.string(), {
      error: 'must be a JSON object of "NAME": "secret" pairs',
    }),
  ).default({}),
  /** SMTP server host of the email channel. Unset: email channels fail with a config error. */
  ALERTING_SMTP_HOST: optional(z.string().min(1)),
  /** SMTP server port. */
  ALERTING_SMTP_PORT: port.default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  ALERTING_SMTP_SECURE: envBool.default(false),
  /** SMTP user name (unset: no authentication). */
  ALERTING_SMTP_USER: optional(z.string().min(1)),
  /** SMTP password (redacted from logs). */
  ALERTING_SMTP_PASSWORD: z.string().default(''),
  /** Sender address of alert emails. */
  ALERTING_SMTP_FROM: z.string().min(3).default('tidemark-alerts@localhost'),
  /** WeCom (WeChat Work) group-robot webhook endpoint, without the key. */
  ALERTING_WECOM_URL: url.default('https://qyapi.weixin.qq.com/cgi-bin/webhook/send'),
  /** Default WeCom group-robot key (the `key=` of the robot's webhook URL; redacted from logs). */
  ALERTING_WECOM_KEY: z.string().default(''),
  /** Default Slack incoming-webhook URL; the URL itself is the credential, hence SECRET in the name (redacted from logs). */
  ALERTING_SLACK_WEBHOOK_SECRET_URL: z.string().default(''),
  /** Default HMAC-SHA256 key that signs generic webhook bodies (redacted from logs). */
  ALERTING_WEBHOOK_SECRET: z.string().default(''),
  /** Twilio REST API base URL (SMS and WhatsApp through Twilio). */
  ALERTING_TWILIO_API_URL: url.default('https://api.twilio.com'),
  /** Twilio account SID (AC...). */
  ALERTING_TWILIO_ACCOUNT_SID: z.string().default(''),
  /** Twilio auth token (redacted from logs). */
  ALERTING_TWILIO_AUTH_TOKEN: z.string().default(''),
  /** Twilio sender number of SMS alerts, E.164 (+15551234567). */
  ALERTING_TWILIO_SMS_FROM: z.string().default(''),
  /** Twilio WhatsApp sender, E.164 without the whatsapp: prefix. */
  ALERTING_TWILIO_WHATSAPP_FROM: z.string().default(''),
  /** Meta WhatsApp Cloud API base URL including the Graph API version. */
  ALERTING_WHATSAPP_API_URL: url.default('https://graph.facebook.com/v21.0'),
  /** Meta WhatsApp Cloud API phone-number id that sends alerts. */
  ALERTING_WHATSAPP_PHONE_NUMBER_ID: z.string().default(''),
  /** Meta WhatsApp Cloud API access token (redacted from logs). */
  ALERTING_WHATSAPP_TOKEN: z.string().default(''),
  /**
   * Meta app secret: verifies X-Hub-Signature-256 of the WhatsApp webhook the API serves at
   * /api/alerting/whatsapp/webhook (message statuses: delivered, read, failed with e.g. 131047).
   * '' = the webhook refuses every call (redacted from logs).
   */
  ALERTING_WHATSAPP_APP_SECRET: z.string().default(''),
  /** The verify token Meta echoes when the webhook is registered (hub.verify_token); '' = registration refused (redacted from logs). */
  ALERTING_WHATSAPP_VERIFY_TOKEN: z.string().default(''),
  /**
   * Refuse to send SMTP credentials over a connection that did not upgrade with STARTTLS (nodemailer
   * requireTLS) when ALERTING_SMTP_USER is set and ALERTING_SMTP_SECURE is false; without it a server
   * that offers no STARTTLS receives the password in cleartext. Unauthenticated relays are unaffected.
   */
  ALERTING_SMTP_REQUIRE_TLS: envBool.default(true),
  /** WeCom group robots accept 20 messages per minute each (errcode 45009 beyond): sends per robot are paced to this many per window. */
  ALERTING_WECOM_RATE_LIMIT: positiveInt.default(20),
  /** The WeCom pacing window (ms); the documented limit is per minute. */
  ALERTING_WECOM_RATE_WINDOW_MS: positiveInt.default(60_000),
  /**
   * Public URL of the API's Twilio status route (https://<api>/api/alerting/twilio/status). Set: SMS and
   * WhatsApp sends through Twilio carry it as StatusCallback, and Twilio's later delivered/failed
   * verdicts (e.g. 63016 outside the WhatsApp window) reach the notification log. '' = no callback.
   */
  ALERTING_TWILIO_STATUS_CALLBACK_URL: z.string().default(''),
  /** DingTalk custom-robot endpoint, without access_token. */
  ALERTING_DINGTALK_URL: url.default('https://oapi.dingtalk.com/robot/send'),
  /** Default DingTalk robot access_token (redacted from logs). */
  ALERTING_DINGTALK_TOKEN: z.string().default(''),
  /** Default DingTalk robot signing secret (SEC...; "加签"); '' = robot not signed (redacted from logs). */
  ALERTING_DINGTALK_SECRET: z.string().default(''),
  /** Feishu/Lark custom-bot endpoint prefix, without the hook token (Lark: https://open.larksuite.com/open-apis/bot/v2/hook). */
  ALERTING_FEISHU_URL: url.default('https://open.feishu.cn/open-apis/bot/v2/hook'),
  /** Default Feishu/Lark bot hook token (the last path segment of its webhook URL; redacted from logs). */
  ALERTING_FEISHU_TOKEN: z.string().default(''),
  /** Default Feishu/Lark bot signing secret ("signature verification"); '' = not signed (redacted from logs). */
  ALERTING_FEISHU_SECRET: z.string().default(''),
  /** PagerDuty Events API v2 endpoint (EU: https://events.eu.pagerduty.com/v2/enqueue). */
  ALERTING_PAGERDUTY_URL: url.default('https://events.pagerduty.com/v2/enqueue'),
  /** Default PagerDuty integration (routing) key (redacted from logs). */
  ALERTING_PAGERDUTY_ROUTING_KEY: z.string().default(''),
  /** Opsgenie API base URL (EU: https://api.eu.opsgenie.com). */
  ALERTING_OPSGENIE_API_URL: url.default('https://api.opsgenie.com'),
  /** Default Opsgenie API integration key, sent as "GenieKey <key>" (redacted from logs). */
  ALERTING_OPSGENIE_API_KEY: z.string().default(''),
  // (alerting keys go above this line)

  // --- etl (packages/etl) --------------------------------------------------
  /** Path of the ETL's own YAML/JSON file (sources, tables, modes, schedules; see docs/etl.md). Unset: no configured sources. */
  ETL_CONFIG: optional(z.string().min(1)),
  /** Runs the demo business source (customers, orders, service records, users, organizations, roles, products) with its change generator, synced into the biz_<table> tables. */
  ETL_DEMO: envBool.default(false),
  /** Postgres URL of the demo business source. Unset: the metadata Postgres (embedded PGlite or META_DATABASE_URL), in schema tidemark_demo. */
  ETL_DEMO_SOURCE_URL: optional(url),
  /** Number of demo customers created on first start (orders are 10x, service records 3x, users 2x). */
  ETL_DEMO_CUSTOMERS: positiveInt.default(2_000),
  /** Changes per second the demo generator keeps making (inserts, updates, deletes); 0 stops it. */
  ETL_DEMO_CHANGES_PER_SECOND: z.coerce.number().min(0).max(10_000).default(5),
  // (etl keys go above this line)
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
/** Names of every environment variable the platform reads. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof Config)[];
