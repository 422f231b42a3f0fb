#!/usr/bin/env bash
# Starts the Debian PostgreSQL cluster on loopback and creates the role and database the store tests use.
# Tests read SCEPKIT_TEST_PG (a connection string); without it the PostgreSQL store tests are reported as not run.
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q online; then
  if ! pg_lsclusters -h | grep -q "^$ver main"; then pg_createcluster "$ver" main >/dev/null; fi
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$ver/main/postgresql.conf"
  pg_ctlcluster "$ver" main start
fi
su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_roles WHERE rolname='scepkit'\"" | grep -q 1 ||
  su postgres -c "psql -q -c \"CREATE ROLE scepkit LOGIN SUPERUSER PASSWORD 'scepkit'\""
su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_database WHERE datname='scepkit_test'\"" | grep -q 1 ||
  su postgres -c "psql -q -c \"CREATE DATABASE scepkit_test OWNER scepkit\""
echo "postgresql $ver on 127.0.0.1:5432, database scepkit_test"
