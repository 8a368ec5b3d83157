#!/bin/sh
# Works through tasks.txt once a minute, logging each task.
set -eu
cd "$(dirname "$0")"
while true; do
  while read -r task; do
    case "$task" in ''|'#'*) continue ;; esac
    echo "$(date -u +%FT%TZ) done: $task"
  done < tasks.txt
  sleep 60
done
