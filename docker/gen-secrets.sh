#!/usr/bin/env bash
# Writes the secrets the compose deployment needs, once: docker/.env (PostgreSQL password,
# metrics bearer token, Grafana admin password) and docker/secrets/metrics_token (the same
# token, as a file for Prometheus). Existing values are kept, so re-running is safe.
# Neither file is committed (docker/.gitignore).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
umask 077
rand() { openssl rand -hex 24; }
touch .env
get() { sed -n "s/^$1=//p" .env | tail -n1; }
put() {
  if [ -z "$(get "$1")" ]; then
    echo "$1=$2" >> .env
    echo "gen-secrets: wrote $1 to docker/.env"
  fi
}
put COMPOSE_PROJECT_NAME instant-dev-logs
put IDL_PG_PASSWORD "$(rand)"
put IDL_METRICS_TOKEN "$(rand)"
put IDL_GRAFANA_PASSWORD "$(rand)"
mkdir -p secrets
printf '%s' "$(get IDL_METRICS_TOKEN)" > secrets/metrics_token
# Prometheus and Grafana run as their own users inside their containers.
chmod 644 secrets/metrics_token
chmod 755 secrets
echo "gen-secrets: Grafana user admin, password in docker/.env (IDL_GRAFANA_PASSWORD)"
