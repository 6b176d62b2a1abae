#!/usr/bin/env bash
# Run a Kafka CLI tool from the same cached jars as the local broker
# (the 4.x distribution's bin/kafka-*.sh, without downloading the distribution).
#
# Usage: scripts/services/kafka-tool.sh <tool|fully.qualified.MainClass> [args...]
# Tools: topics, console-producer, console-consumer, consumer-groups,
#        metadata-quorum, cluster, features, api-versions, configs, log-dirs,
#        get-offsets, delete-records, leader-election, reassign-partitions,
#        transactions, producer-perf, consumer-perf, storage
# Example:
#   scripts/services/kafka-tool.sh topics --bootstrap-server 127.0.0.1:19092 --list
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
(($#)) || { usage >&2; exit 2; }
tool="$1"; shift
case "$tool" in
  -h|--help) usage; exit 0 ;;
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  console-producer) main=org.apache.kafka.tools.ConsoleProducer ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  metadata-quorum) main=org.apache.kafka.tools.MetadataQuorumCommand ;;
  cluster) main=org.apache.kafka.tools.ClusterTool ;;
  features) main=org.apache.kafka.tools.FeatureCommand ;;
  api-versions) main=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
  configs) main=kafka.admin.ConfigCommand ;;
  log-dirs) main=org.apache.kafka.tools.LogDirsCommand ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  delete-records) main=org.apache.kafka.tools.DeleteRecordsCommand ;;
  leader-election) main=org.apache.kafka.tools.LeaderElectionCommand ;;
  reassign-partitions) main=org.apache.kafka.tools.reassign.ReassignPartitionsCommand ;;
  transactions) main=org.apache.kafka.tools.TransactionsCommand ;;
  producer-perf) main=org.apache.kafka.tools.ProducerPerformance ;;
  consumer-perf) main=org.apache.kafka.tools.ConsumerPerformance ;;
  storage) main=kafka.tools.StorageTool ;;
  *.*) main="$tool" ;;
  *) usage >&2; die "unknown tool: $tool" ;;
esac

ensure_kafka_jars
run_kafka_class "$main" "$@"
