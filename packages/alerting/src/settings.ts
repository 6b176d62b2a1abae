import { z } from 'zod';
import { configFields, configSchema, type Config } from '@tidemark/core';

const { envBool, port, positiveInt, url, jsonEnv, optional } = configFields;

/**
 * This role's settings (alerting: rules, engine, delivery and every channel's defaults), by environment variable name, with a
 * comment per key. The CLI composes every role's slice with core's into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const alertingSettings = z.object({
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
  /** How often the scheduler ticks the alert engine (ms): each tick evaluates due rules, groups new alert events, flushes due groups and sends due notifications. */
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
});

/** The configuration this role runs with: core's settings and its own. */
export const alertingRoleConfigSchema = configSchema.extend(alertingSettings.shape);
export type AlertingRoleConfig = Config & z.output<typeof alertingSettings>;
