#!/bin/sh
# docker-compose.yml's "backup" service: a logical dump of the whole database every night at
# BACKUP_HOUR (UTC), written beside the others and renamed when complete, the dumps older than
# BACKUP_KEEP_DAYS removed. backup.prom holds the last success's time for Prometheus (node
# exporter's textfile collector): alert AttendanceBackupStale (deploy/alerts.yml).
# Restore: docs/OPERATIONS.md "Backups and restore".
set -eu
hour="${BACKUP_HOUR:-2}"
keep="${BACKUP_KEEP_DAYS:-14}"
dir=/backups
while true; do
  now=$(date -u +%s)
  next=$(date -u -d "$(date -u +%F) ${hour}:00" +%s)
  [ "$next" -gt "$now" ] || next=$((next + 86400))
  sleep $((next - now))
  name="attendance-$(date -u +%Y%m%dT%H%M%SZ).dump"
  if pg_dump --format=custom --compress=6 --file="$dir/$name.partial"; then
    mv "$dir/$name.partial" "$dir/$name"
    printf 'pg_backup_last_success_timestamp_seconds{db="attendance"} %s\n' "$(date -u +%s)" > "$dir/backup.prom.tmp"
    mv "$dir/backup.prom.tmp" "$dir/backup.prom"
    echo "backup: $name written"
  else
    rm -f "$dir/$name.partial"
    echo "backup: pg_dump failed" >&2
  fi
  find "$dir" -name 'attendance-*.dump' -mtime +"$keep" -delete
done
