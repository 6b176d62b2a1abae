import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import type { Logger } from 'pino';

/** Maps kafkajs's log levels onto the component's pino logger. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string } & Record<string, unknown> }) => {
      const { message, ...rest } = log;
      if (level <= logLevel.ERROR) logger.error(rest, message);
      else if (level === logLevel.WARN) logger.warn(rest, message);
      else if (level === logLevel.INFO) logger.debug(rest, message);
      else logger.trace(rest, message);
    };
}

/** A kafkajs client for the configured brokers, logging through pino. */
export function createKafka(opts: { brokers: string; clientId: string; logger: Logger }): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(opts.logger),
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  return new Kafka(config);
}
