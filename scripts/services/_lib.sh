# shellcheck shell=bash
# Shared helpers for scripts/services/{up,down,kafka-node,kafka-tool}.sh.
# Source it, don't run it. Everything is derived from this file's location,
# so the scripts work from any cwd.

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SERVICES_DIR/../.." && pwd)"
# gitignored: data, logs, pid files, env. TIDEMARK_SERVICES_DIR (with KAFKA_BASE_PORT and
# KAFKA_CONTROLLER_BASE_PORT) runs a second, private cluster beside the shared one, e.g. for
# failure tests that kill brokers without disturbing other test runs.
STATE_DIR="${TIDEMARK_SERVICES_DIR:-$REPO_ROOT/.services}"
KAFKA_STATE_DIR="$STATE_DIR/kafka"
KAFKA_POM="$SERVICES_DIR/kafka/pom.xml"
KAFKA_BROKER_LOG4J="$SERVICES_DIR/kafka/log4j2-broker.properties"
KAFKA_TOOLS_LOG4J="$SERVICES_DIR/kafka/log4j2-tools.properties"

# Tunables (env). Ports: node N listens on base+N-1 (broker) and controller-base+N-1.
KAFKA_BASE_PORT="${KAFKA_BASE_PORT:-19092}"
KAFKA_CONTROLLER_BASE_PORT="${KAFKA_CONTROLLER_BASE_PORT:-19192}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"   # seconds until a node must be ready
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"      # seconds of SIGTERM grace before SIGKILL
KAFKA_HOST=127.0.0.1

pom_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$KAFKA_POM" | sed -n 1p; }
KAFKA_VERSION="$(pom_property kafka.version)"
DEPENDENCY_PLUGIN_VERSION="$(pom_property dependency-plugin.version)"
KAFKA_CACHE_DIR="${TIDEMARK_CACHE_DIR:-${HOME:?HOME is not set: set TIDEMARK_CACHE_DIR}/.cache/tidemark}/kafka-$KAFKA_VERSION"
KAFKA_LIB_DIR="$KAFKA_CACHE_DIR/lib"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -n "$KAFKA_VERSION" ]] || die "could not read <kafka.version> from $KAFKA_POM"

# ---------------------------------------------------------------- generic ----

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
}

# Take the exclusive state lock (serialises concurrent up/down/kafka-node runs).
# Children that outlive us (the JVMs) must be started with 9>&- so they do not
# keep holding it.
take_lock() {
  mkdir -p "$KAFKA_STATE_DIR"
  exec 9>"$KAFKA_STATE_DIR/.lock"
  if ! flock -w 300 9; then
    die "another scripts/services command holds $KAFKA_STATE_DIR/.lock for 5 minutes; giving up"
  fi
}

# ------------------------------------------------------------------ java ----

JAVA_BIN=""
find_java() {
  [[ -n "$JAVA_BIN" ]] && return 0
  local j="${KAFKA_JAVA:-}"
  if [[ -z "$j" && -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then j="$JAVA_HOME/bin/java"; fi
  if [[ -z "$j" ]]; then j="$(command -v java || true)"; fi
  [[ -n "$j" ]] || die "no java found (Kafka $KAFKA_VERSION needs Java 17+): install openjdk-17-jre-headless or set JAVA_HOME/KAFKA_JAVA"
  local spec
  spec="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  [[ "$spec" =~ ^[0-9]+$ ]] || die "could not determine the version of $j"
  (( spec >= 17 )) || die "$j is Java $spec; Kafka $KAFKA_VERSION needs Java 17+ (set JAVA_HOME or KAFKA_JAVA)"
  JAVA_BIN="$j"
}

# ------------------------------------------------------------- kafka jars ----

# ensure_kafka_jars: copy Kafka's runtime jars into the cache once. The cache is
# keyed by the pom's sha256, so a second run does no Maven/network work at all.
ensure_kafka_jars() {
  local stamp="$KAFKA_CACHE_DIR/.pom.sha256" want
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$KAFKA_LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 \
    || die "Maven (mvn) is needed once to fetch the Kafka jars: apt-get install maven"
  mkdir -p "$KAFKA_CACHE_DIR"
  local tmp mvn_log="$KAFKA_CACHE_DIR/mvn.log" t0=$SECONDS
  tmp="$(mktemp -d "$KAFKA_CACHE_DIR/.lib.XXXXXX")"
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central (first run only; ~1 min)…"
  # Fully-qualified plugin goal: works with an empty ~/.m2 (CI) and does not
  # depend on plugin-prefix resolution. The pom has packaging=pom, nothing is built.
  if ! mvn -B -ntp -f "$KAFKA_POM" \
      "org.apache.maven.plugins:maven-dependency-plugin:$DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    tail -n 30 "$mvn_log" >&2 || true
    die "Maven could not resolve the Kafka jars (full log: $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing (log: $mvn_log)"; }
  rm -rf "$KAFKA_LIB_DIR"
  mv "$tmp" "$KAFKA_LIB_DIR"
  printf '%s\n' "$want" >"$stamp"
  log "cached $(find "$KAFKA_LIB_DIR" -name '*.jar' | wc -l) jars in $KAFKA_LIB_DIR ($((SECONDS - t0))s)"
}

# run_kafka_class MAIN [ARGS...]: run a Kafka tool class from the cached jars
# (short-lived JVM tuned for start-up time, logs WARN+ to stderr).
run_kafka_class() {
  find_java
  "$JAVA_BIN" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J" \
    -cp "$KAFKA_LIB_DIR/*" "$@"
}

# --------------------------------------------------------------- topology ----
# .services/kafka/<N>-node/            one dir per cluster size (1 or 3 usually)
#   cluster.id                         KRaft cluster id used to format the nodes
#   node-<id>/server.properties        generated on every start
#   node-<id>/data/                    log.dirs (+ KRaft metadata log)
#   node-<id>/logs/server.log          broker log; logs/stdout.log = JVM stdout/stderr
#   node-<id>/kafka.pid, start.offset  pid, and server.log size when last started
# .services/kafka/active               size of the cluster up.sh last started

cluster_dir() { printf '%s/%s-node' "$KAFKA_STATE_DIR" "$1"; }
node_dir() { printf '%s/node-%s' "$(cluster_dir "$1")" "$2"; }
broker_port() { echo $((KAFKA_BASE_PORT + $1 - 1)); }
controller_port() { echo $((KAFKA_CONTROLLER_BASE_PORT + $1 - 1)); }

brokers_list() {  # brokers_list COUNT -> 127.0.0.1:19092,...
  local n out=""
  for ((n = 1; n <= $1; n++)); do out+="${out:+,}$KAFKA_HOST:$(broker_port "$n")"; done
  printf '%s' "$out"
}

active_count() {
  local f="$KAFKA_STATE_DIR/active"
  if [[ -f "$f" ]]; then cat "$f"; fi
}

# pid_has_marker PID DIR: PID is alive and is the JVM of node DIR.
pid_has_marker() {
  local args
  args="$( { tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null)" || return 1
  grep -qxF -- "-Dtidemark.kafka.node=$2" <<<"$args"
}

# java_pids: pids of all running java processes (cheap: reads /proc/*/comm).
java_pids() {
  local p comm
  for p in /proc/[0-9]*; do
    comm=""
    read -r comm 2>/dev/null <"$p/comm" || continue
    [[ "$comm" == java ]] && echo "${p#/proc/}"
  done
  return 0
}

# node_pid DIR: print the pid of the live JVM of node DIR (empty if none).
# Uses the pid file, and falls back to scanning /proc for the marker argument
# (covers a deleted pid file); a stale pid file never matches a reused pid.
node_pid() {
  local dir="$1" pid=""
  if [[ -f "$dir/kafka.pid" ]]; then
    pid="$(cat "$dir/kafka.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && pid_has_marker "$pid" "$dir"; then echo "$pid"; return 0; fi
  fi
  local p
  for p in $(java_pids); do
    if pid_has_marker "$p" "$dir"; then echo "$p"; return 0; fi
  done
  return 0
}

# all_kafka_pids: every live JVM started by these scripts for this repo checkout.
all_kafka_pids() {
  local p args
  for p in $(java_pids); do
    args="$( { tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null)" || continue
    if grep -qF -- "-Dtidemark.kafka.node=$KAFKA_STATE_DIR/" <<<"$args"; then echo "$p"; fi
  done
  return 0
}

cluster_id_for() {  # cluster_id_for COUNT: stored id, else id from an existing meta.properties, else new
  local cdir f id
  cdir="$(cluster_dir "$1")"
  f="$cdir/cluster.id"
  if [[ -s "$f" ]]; then cat "$f"; return 0; fi
  id="$(sed -n 's/^cluster\.id=//p' "$cdir"/node-*/data/meta.properties 2>/dev/null | head -n 1 || true)"
  if [[ -z "$id" ]]; then
    # 16 random bytes, URL-safe base64 without padding = a valid KRaft cluster id. It may
    # start with "-": it is passed as --cluster-id=ID so the tool does not read it as an option.
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  fi
  mkdir -p "$cdir"
  printf '%s\n' "$id" >"$f"
  echo "$id"
}

# write_node_config COUNT ID
write_node_config() {
  local count="$1" id="$2" dir voters="" n rf isr
  dir="$(node_dir "$count" "$id")"
  mkdir -p "$dir/data" "$dir/logs"
  for ((n = 1; n <= count; n++)); do voters+="${voters:+,}$n@$KAFKA_HOST:$(controller_port "$n")"; done
  rf=$(( count < 3 ? count : 3 ))
  isr=$(( rf >= 3 ? 2 : 1 ))
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/services (up.sh / kafka-node.sh) on every start; edits are overwritten.
# KRaft combined node $id of a $count-node local cluster, loopback only.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$KAFKA_HOST:$(broker_port "$id"),CONTROLLER://$KAFKA_HOST:$(controller_port "$id")
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$(broker_port "$id")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data

# Topics
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr

# Internal topics: replication $rf, min ISR $isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr

# Largest record batch the broker accepts: 10 MiB (default is ~1 MiB).
# Producers must raise max.request.size to send batches that big.
message.max.bytes=10485760
replica.fetch.max.bytes=10485760

# Small machine (2 cores, several services): fewer threads, smaller cleaner buffer,
# no initial rebalance delay so consumer groups in tests start at once.
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=33554432
group.initial.rebalance.delay.ms=0
EOF
}

# format_nodes COUNT ID...: format the storage of nodes that are not formatted yet.
format_nodes() {
  local count="$1"; shift
  local cid id dir pids=() ids=() i rc=0
  find_java
  cid="$(cluster_id_for "$count")"
  for id in "$@"; do
    dir="$(node_dir "$count" "$id")"
    [[ -f "$dir/data/meta.properties" ]] && continue
    log "formatting storage of node $id (cluster id $cid)…"
    run_kafka_class kafka.tools.StorageTool format --cluster-id="$cid" \
      --config "$dir/server.properties" --ignore-formatted >"$dir/logs/format.log" 2>&1 9>&- &
    pids+=("$!"); ids+=("$id")
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      rc=1
      dir="$(node_dir "$count" "${ids[$i]}")"
      log "formatting node ${ids[$i]} failed:"; tail -n 20 "$dir/logs/format.log" >&2 || true
    fi
  done
  (( rc == 0 )) || die "kafka.tools.StorageTool format failed"
}

# launch_node COUNT ID: start the JVM of one node in the background (own session,
# survives the calling shell), record pid and the server.log offset.
launch_node() {
  local count="$1" id="$2" dir pid off=0
  dir="$(node_dir "$count" "$id")"
  find_java
  [[ -f "$dir/logs/server.log" ]] && off="$(stat -c %s "$dir/logs/server.log")"
  echo "$off" >"$dir/start.offset"
  printf '\n===== %s starting node %s =====\n' "$(date -Is)" "$id" >>"$dir/logs/stdout.log"
  stat -c %s "$dir/logs/stdout.log" >"$dir/start.stdout.offset"
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word lists
  ( cd "$dir" && exec setsid "$JAVA_BIN" $KAFKA_HEAP_OPTS \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      ${KAFKA_JVM_OPTS:-} \
      -Dlog4j2.configurationFile="$KAFKA_BROKER_LOG4J" -Dkafka.logs.dir="$dir/logs" \
      "-Dtidemark.kafka.node=$dir" \
      -cp "$KAFKA_LIB_DIR/*" kafka.Kafka "$dir/server.properties" \
      </dev/null >>"$dir/logs/stdout.log" 2>&1 9>&- ) &
  pid=$!
  if ! pid_has_marker "$pid" "$dir"; then
    sleep 0.2
    pid="$(node_pid "$dir")"
  fi
  [[ -n "$pid" ]] || { print_node_failure "$count" "$id"; die "node $id: the JVM exited immediately (see above)"; }
  echo "$pid" >"$dir/kafka.pid"
  log "node $id: started pid $pid (broker $KAFKA_HOST:$(broker_port "$id"), controller $KAFKA_HOST:$(controller_port "$id"))"
}

# node_ready COUNT ID: broker port answers and server.log says "Kafka Server
# started" since the last start (KRaft logs it only once the broker is
# registered with the quorum and unfenced).
node_ready() {
  local dir off size
  dir="$(node_dir "$1" "$2")"
  port_open "$(broker_port "$2")" || return 1
  [[ -f "$dir/logs/server.log" ]] || return 1
  off="$(cat "$dir/start.offset" 2>/dev/null || echo 0)"
  size="$(stat -c %s "$dir/logs/server.log")"
  (( size >= off )) || off=0   # log rolled over since the start
  # (process substitution, not a pipe: with pipefail, grep -q exiting early
  # would make tail die of SIGPIPE and the pipeline report failure)
  grep -q 'Kafka Server started' < <(tail -c +"$((off + 1))" "$dir/logs/server.log")
}

print_node_failure() {  # log tails since the node's last start
  local dir off size
  dir="$(node_dir "$1" "$2")"
  off="$(cat "$dir/start.offset" 2>/dev/null || echo 0)"
  size="$(stat -c %s "$dir/logs/server.log" 2>/dev/null || echo 0)"
  (( size >= off )) || off=0
  {
    echo "----- node $2: tail of $dir/logs/server.log (since this start) -----"
    if (( size > off )); then tail -c +"$((off + 1))" "$dir/logs/server.log" | tail -n 40; else echo "(nothing logged)"; fi
    echo "----- node $2: $dir/logs/stdout.log (JVM output since this start) -----"
    off="$(cat "$dir/start.stdout.offset" 2>/dev/null || echo 0)"
    tail -c +"$((off + 1))" "$dir/logs/stdout.log" 2>/dev/null | tail -n 15
    echo "-----"
  } >&2
}

# wait_ready COUNT ID...: wait until all given nodes are ready; on timeout or
# if a node dies, print its log tail and fail. Returns non-zero instead of
# dying so callers can clean up first.
wait_ready() {
  local count="$1"; shift
  local pending=("$@") still id deadline=$((SECONDS + KAFKA_START_TIMEOUT)) last_note=$SECONDS
  while ((${#pending[@]})); do
    still=()
    for id in "${pending[@]}"; do
      if node_ready "$count" "$id"; then
        log "node $id: ready on $KAFKA_HOST:$(broker_port "$id")"
      elif [[ -z "$(node_pid "$(node_dir "$count" "$id")")" ]]; then
        print_node_failure "$count" "$id"
        log "node $id: the Kafka process exited during start-up (see the log tail above)"
        return 1
      else
        still+=("$id")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS >= deadline)); then
      for id in "${pending[@]}"; do print_node_failure "$count" "$id"; done
      log "node(s) ${pending[*]} not ready after ${KAFKA_START_TIMEOUT}s (KAFKA_START_TIMEOUT); see the log tail above"
      return 1
    fi
    if ((SECONDS - last_note >= 15)); then
      log "still waiting for node(s) ${pending[*]}… ($((SECONDS - deadline + KAFKA_START_TIMEOUT))s)"
      last_note=$SECONDS
    fi
    sleep 0.5
  done
}

# pid_alive PID: running and not a zombie.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# stop_grace COUNT: seconds of SIGTERM grace for a node of a COUNT-node cluster.
# A combined node's controlled shutdown needs a controller quorum; when a
# majority of the nodes is already down it can only hang, so don't wait long.
stop_grace() {
  local count="$1" id alive=0
  for ((id = 1; id <= count; id++)); do
    [[ -n "$(node_pid "$(node_dir "$count" "$id")")" ]] && alive=$((alive + 1))
  done
  if ((count > 1 && alive * 2 <= count && KAFKA_STOP_TIMEOUT > 5)); then echo 5; else echo "$KAFKA_STOP_TIMEOUT"; fi
}

# stop_pids MODE PID...: graceful = SIGTERM, wait STOP_GRACE (default
# KAFKA_STOP_TIMEOUT) seconds, then SIGKILL; kill = SIGKILL at once.
# Waits until all are gone.
stop_pids() {
  local mode="$1"; shift
  (($#)) || return 0
  local p alive deadline grace="${STOP_GRACE:-$KAFKA_STOP_TIMEOUT}"
  if [[ "$mode" == kill ]]; then
    kill -KILL "$@" 2>/dev/null || true
    deadline=$((SECONDS + 10))
  else
    kill -TERM "$@" 2>/dev/null || true
    deadline=$((SECONDS + grace))
  fi
  while :; do
    alive=()
    for p in "$@"; do if pid_alive "$p"; then alive+=("$p"); fi; done
    ((${#alive[@]})) || return 0
    if ((SECONDS >= deadline)); then
      if [[ "$mode" == kill ]]; then die "pid(s) ${alive[*]} survived SIGKILL"; fi
      log "pid(s) ${alive[*]} still running after ${grace}s of SIGTERM; sending SIGKILL"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      mode="kill"; deadline=$((SECONDS + 10))
    fi
    sleep 0.2
  done
}
