import http from 'node:http';
import https from 'node:https';
import { LABEL_NAME, METRIC_NAME, type MetricType } from '@tidemark/sdk';
import type { Target } from '../config/targets';
import { TargetProbe } from '../schedule/target-probe';
import { parsePrometheusText, type PromSample } from './parse';

/** Largest page read (bytes): an exporter gone wild must not take the monitor's memory. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
/** The collector's limit of labels per sample, minus job and instance. */
const MAX_SCRAPED_LABELS = 30;

/**
 * Tidemark's type of a scraped sample. Counters, and the cumulative
 * _bucket/_sum/_count series of histograms and summaries, are running
 * totals: 'counter'. Gauges, summary quantiles and untyped samples are
 * 'gauge'. (Tidemark's own 'histogram' type means "one observation per
 * sample", which a scrape never has.)
 */
export function tidemarkType(s: PromSample): MetricType {
  if (s.type === 'counter') return 'counter';
  if (s.type === 'histogram') return 'counter';
  if (s.type === 'summary') return s.name === s.family ? 'gauge' : 'counter';
  return 'gauge';
}

function fetchPage(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(
      url,
      { headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', 'user-agent': 'tidemark-monitor' }, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_PAGE_BYTES) {
            req.destroy(new Error(`page larger than ${MAX_PAGE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/**
 * Scrapes Prometheus endpoints into metric samples. Each sample keeps its
 * name and labels, gains job=<target name> and instance=<host:port> (a
 * scraped label of the same name is kept as exported_job /
 * exported_instance, as Prometheus does), and keeps its exposition
 * timestamp when it has one. NaN and infinite values are skipped (Tidemark
 * stores finite numbers; +Inf buckets equal _count anyway). Per target:
 * scrape_up, scrape_duration_ms, scrape_samples, scrape_samples_skipped.
 */
export class ScrapeProbe extends TargetProbe {
  readonly name = 'scrape';

  async scrape(t: Target): Promise<{ up: boolean; samples: number; skipped: number; error?: string }> {
    const timestamp = Date.now();
    const instance = new URL(t.url).host;
    const base = { job: t.name, instance };
    const start = process.hrtime.bigint();
    let page: { status: number; text: string };
    try {
      page = await fetchPage(t.url, this.timeoutMs);
      if (page.status !== 200) throw new Error(`HTTP ${page.status}`);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.sink.metric('scrape_up', 0, { labels: base, timestamp });
      this.logger.debug({ job: t.name, url: t.url, error }, 'scrape failed');
      return { up: false, samples: 0, skipped: 0, error };
    }
    const parsed = parsePrometheusText(page.text);
    let sent = 0;
    let skipped = parsed.errors.length;
    for (const s of parsed.samples) {
      if (!Number.isFinite(s.value) || !METRIC_NAME.test(s.name)) {
        skipped++;
        continue;
      }
      const labels: Record<string, string> = {};
      let ok = Object.keys(s.labels).length <= MAX_SCRAPED_LABELS;
      for (const [k, v] of Object.entries(s.labels)) {
        const key = k === 'job' || k === 'instance' ? `exported_${k}` : k;
        if (!LABEL_NAME.test(key)) ok = false;
        labels[key] = v;
      }
      if (!ok) {
        skipped++;
        continue;
      }
      this.sink.metric(s.name, s.value, { type: tidemarkType(s), labels: { ...labels, ...base }, timestamp: s.timestamp ?? timestamp });
      sent++;
    }
    this.sink.metric('scrape_up', 1, { labels: base, timestamp });
    this.sink.metric('scrape_duration_ms', Number(process.hrtime.bigint() - start) / 1e6, { labels: base, timestamp });
    this.sink.metric('scrape_samples', sent, { labels: base, timestamp });
    this.sink.metric('scrape_samples_skipped', skipped, { labels: base, timestamp });
    if (parsed.errors.length > 0) this.logger.debug({ job: t.name, errors: parsed.errors.slice(0, 5) }, 'lines of a scraped page could not be read');
    return { up: true, samples: sent, skipped };
  }

  async run(): Promise<void> {
    await Promise.all(this.targets.map((t) => this.scrape(t)));
  }
}
