#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker+controller) assembled
# from Maven Central jars: there is no Docker on our machines and apache.org is not
# reachable. Idempotent: `up` on a running broker returns at once.
#   kafka.sh up | down | status | fetch
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
CACHE_DIR="${CASESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/casestream}"
JARS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
RUN_DIR="${CASESTREAM_RUN_DIR:-$root/.run}"
KDIR="$RUN_DIR/kafka"
PORT="${CASESTREAM_KAFKA_PORT:-9092}"
CPORT="${CASESTREAM_KAFKA_CONTROLLER_PORT:-9093}"
PIDFILE="$KDIR/kafka.pid"

log() { printf 'kafka: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$JARS/.complete" ]; then return 0; fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $JARS"
  mkdir -p "$JARS"
  mvn -q -B -f "$here/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS"
  ls "$JARS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
  touch "$JARS/.complete"
}

answering() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

write_config() {
  mkdir -p "$KDIR/data" "$KDIR/logs"
  cat >"$KDIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KDIR/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=4194304
log.retention.hours=-1
PROPS
  cat >"$KDIR/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

JAVA_OPTS=(-Xms512M -Xmx512M -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KDIR/log4j.properties" -Dkafka.logs.dir="$KDIR/logs" \
    -cp "$JARS/*")
java_cmd() { java "${JAVA_OPTS[@]}" "$@"; }

up() {
  if answering; then log "already answering on 127.0.0.1:$PORT"; return 0; fi
  fetch
  write_config
  if [ ! -f "$KDIR/data/meta.properties" ]; then
    local cid; cid="$(java_cmd kafka.tools.StorageTool random-uuid | tail -n1)"
    java_cmd kafka.tools.StorageTool format -t "$cid" -c "$KDIR/server.properties" --ignore-formatted >"$KDIR/logs/format.log" 2>&1
  fi
  log "starting broker on 127.0.0.1:$PORT (data in $KDIR/data)"
  nohup java "${JAVA_OPTS[@]}" kafka.Kafka "$KDIR/server.properties" >"$KDIR/logs/stdout.log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if answering; then log "up (pid $(cat "$PIDFILE"))"; return 0; fi
    if ! running; then log "broker exited; see $KDIR/logs"; tail -n 30 "$KDIR/logs/stdout.log" >&2 || true; return 1; fi
    sleep 0.5
  done
  log "broker did not answer within 60 s"; return 1
}

down() {
  if running; then
    local pid; pid="$(cat "$PIDFILE")"
    log "stopping broker (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

status() { if answering; then echo "kafka: up on 127.0.0.1:$PORT"; else echo "kafka: down"; return 1; fi; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  fetch) fetch ;;
  reset) down; rm -rf "$KDIR" ;;
  *) echo "usage: $0 up|down|status|fetch|reset" >&2; exit 2 ;;
esac
