#!/usr/bin/env bash
# A local deployment: dagster-webserver and dagster-daemon on the PostgreSQL-backed instance of
# deploy/dagster.yaml, the pipeline's state in a schema of the same database. The database and
# the schema are created when missing. Ctrl-C (or SIGTERM) stops both processes.
#
# Settings (environment; defaults suit the local server of a development machine):
#   DAGSTER_POSTGRES_HOSTNAME=127.0.0.1 DAGSTER_POSTGRES_PORT=5432 DAGSTER_POSTGRES_USER=postgres
#   DAGSTER_POSTGRES_PASSWORD= DAGSTER_POSTGRES_DB=confluence_pipeline
#   CONFLUENCE_PIPELINE_STATE_SCHEMA=confluence_state  DAGSTER_WEBSERVER_PORT=3000
#   DAGSTER_HOME=<repo>/.dagster_home/deploy  SECRET_KEY (required: shared by every process)
#   CONFLUENCE_PIPELINE_POSTGRES_USER=confluence_pipeline CONFLUENCE_PIPELINE_POSTGRES_PASSWORD=
# Without CONFLUENCE_PIPELINE_DATABASE_URL, the pipeline's state is reached as its own
# least-privilege role (deploy/postgres-init.sql: owns the state schema, nothing else), created
# or updated here; with it, the URL's role is yours to set up.
# It writes $DAGSTER_HOME/../deploy-env.sh: `source` it to point the CLI at this deployment.
set -euo pipefail

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy_dir")"
bin="${VENV_BIN:-$root/.venv/bin}"

export DAGSTER_HOME="${DAGSTER_HOME:-$root/.dagster_home/deploy}"
export DAGSTER_POSTGRES_HOSTNAME="${DAGSTER_POSTGRES_HOSTNAME:-127.0.0.1}"
export DAGSTER_POSTGRES_PORT="${DAGSTER_POSTGRES_PORT:-5432}"
export DAGSTER_POSTGRES_USER="${DAGSTER_POSTGRES_USER:-postgres}"
export DAGSTER_POSTGRES_PASSWORD="${DAGSTER_POSTGRES_PASSWORD:-}"
export DAGSTER_POSTGRES_DB="${DAGSTER_POSTGRES_DB:-confluence_pipeline}"
schema="${CONFLUENCE_PIPELINE_STATE_SCHEMA:-confluence_state}"
port="${DAGSTER_WEBSERVER_PORT:-3000}"
: "${SECRET_KEY:?SECRET_KEY must be set: webserver, daemon and runs share the state database}"

export PGPASSWORD="$DAGSTER_POSTGRES_PASSWORD"
sql() {
  psql -X -q -tA -v ON_ERROR_STOP=1 -h "$DAGSTER_POSTGRES_HOSTNAME" -p "$DAGSTER_POSTGRES_PORT" \
    -U "$DAGSTER_POSTGRES_USER" "$@"
}
if [ "$(sql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DAGSTER_POSTGRES_DB'")" != 1 ]; then
  sql -d postgres -c "CREATE DATABASE \"$DAGSTER_POSTGRES_DB\""
fi

if [ -z "${CONFLUENCE_PIPELINE_DATABASE_URL:-}" ]; then
  role="${CONFLUENCE_PIPELINE_POSTGRES_USER:-confluence_pipeline}"
  role_password="${CONFLUENCE_PIPELINE_POSTGRES_PASSWORD:-}"
  CONFLUENCE_PIPELINE_POSTGRES_PASSWORD="$role_password" \
    sql -d "$DAGSTER_POSTGRES_DB" -v role="$role" -v schema="$schema" -f "$deploy_dir/postgres-init.sql" >/dev/null
  userinfo="$role"
  if [ -n "$role_password" ]; then
    quoted="$("$bin/python" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$role_password")"
    userinfo="$userinfo:$quoted"
  fi
  server="$DAGSTER_POSTGRES_HOSTNAME:$DAGSTER_POSTGRES_PORT/$DAGSTER_POSTGRES_DB"
  export CONFLUENCE_PIPELINE_DATABASE_URL="postgresql://$userinfo@$server?options=-csearch_path%3D$schema"
else
  sql -d "$DAGSTER_POSTGRES_DB" -c "CREATE SCHEMA IF NOT EXISTS \"$schema\""
fi

mkdir -p "$DAGSTER_HOME"
cp "$deploy_dir/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
env_file="$(dirname "$DAGSTER_HOME")/deploy-env.sh"
cat > "$env_file" <<EOF
# source this to point confluence-pipeline at the local deployment (secrets not included)
export DAGSTER_HOME='$DAGSTER_HOME'
export DAGSTER_POSTGRES_HOSTNAME='$DAGSTER_POSTGRES_HOSTNAME' DAGSTER_POSTGRES_PORT='$DAGSTER_POSTGRES_PORT'
export DAGSTER_POSTGRES_USER='$DAGSTER_POSTGRES_USER' DAGSTER_POSTGRES_DB='$DAGSTER_POSTGRES_DB'
export DAGSTER_POSTGRES_PASSWORD="\${DAGSTER_POSTGRES_PASSWORD:-}"
EOF
# a URL with a password in it (scheme://user:password@host) stays out of files
if [ -z "$DAGSTER_POSTGRES_PASSWORD" ] && [[ "$CONFLUENCE_PIPELINE_DATABASE_URL" != *:*:*@* ]]; then
  echo "export CONFLUENCE_PIPELINE_DATABASE_URL='$CONFLUENCE_PIPELINE_DATABASE_URL'" >> "$env_file"
else  # the URL carries the password, which stays out of files
  echo "# also export CONFLUENCE_PIPELINE_DATABASE_URL (it carries the password)" >> "$env_file"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait || true
}
trap stop INT TERM EXIT
"$bin/dagster-daemon" run -w "$root/workspace.yaml" &
pids+=($!)
"$bin/dagster-webserver" -h 127.0.0.1 -p "$port" -w "$root/workspace.yaml" &
pids+=($!)
echo "Dagster UI on http://127.0.0.1:$port (instance: $DAGSTER_HOME, PostgreSQL database $DAGSTER_POSTGRES_DB)"
wait -n
