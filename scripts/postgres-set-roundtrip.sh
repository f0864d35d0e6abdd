#!/bin/bash
# Applies a PostgreSQL migration set with psql against a throwaway server, as a golang-migrate
# user's database would see it: for each migration in order, up, down (the schema must then be
# what it was before the up, by `pg_dump --schema-only`), and up again; then every down in
# reverse order, which must leave an empty schema. A file with `-- migrate:no-transaction`
# runs as is; any other in one transaction (`psql -1`), as the runtime runs it.
#
#   scripts/postgres-set-roundtrip.sh [DIR]      (default: tests/sets/postgres_shop)
#
# Needs PostgreSQL's server binaries (Debian: postgresql-15; PGBIN overrides where they are).
# The server lives in a temporary directory, listens on a Unix socket only, and is stopped and
# removed at exit. Run it as root or as a user that may run initdb (root runs the server as
# `postgres`).
set -euo pipefail
set_dir=$(realpath "${1:-tests/sets/postgres_shop}")
bin=${PGBIN:-/usr/lib/postgresql/15/bin}
tmp=$(mktemp -d)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$tmp"
  as_owner=(runuser -u postgres --)
fi
stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop EXIT
"${as_owner[@]}" "$bin/initdb" -D "$tmp/data" -A trust -U postgres >"$tmp/initdb.log"
"${as_owner[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
  -o "-k $tmp -c listen_addresses=''" start >/dev/null

psql_() { "$bin/psql" -h "$tmp" -U postgres -d shop -X -q -v ON_ERROR_STOP=1 "$@"; }
schema() {
  "$bin/pg_dump" -h "$tmp" -U postgres -d shop --schema-only --no-owner \
    | grep -v -e '^--' -e '^\\\(un\)\{0,1\}restrict' -e '^$'
}
apply() {
  if grep -q -- '^-- migrate:no-transaction' "$1"; then psql_ -f "$1"; else psql_ -1 -f "$1"; fi
}
"$bin/psql" -h "$tmp" -U postgres -X -q -c "CREATE DATABASE shop"
empty=$(schema)
ups=$(ls "$set_dir"/*.up.sql | sort)
for up in $ups; do
  down=${up%.up.sql}.down.sql
  before=$(schema)
  apply "$up"
  apply "$down"
  if [ "$before" != "$(schema)" ]; then
    diff <(echo "$before") <(schema) || true
    echo "$(basename "$down") does not undo $(basename "$up")"
    exit 1
  fi
  apply "$up"
  echo "ok: $(basename "$up"): up, down (the schema as before), up"
done
for up in $(echo "$ups" | sort -r); do
  apply "${up%.up.sql}.down.sql"
done
if [ "$empty" != "$(schema)" ]; then
  echo "every down in reverse order does not leave the schema empty:"
  diff <(echo "$empty") <(schema) || true
  exit 1
fi
echo "ok: every down in reverse order leaves the schema as it was before the first up"
