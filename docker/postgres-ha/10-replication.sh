#!/bin/sh
# compose.ha.yml: lets the standby (another container) stream WAL from this primary with the
# idl user's password (runs once, when the official image initialises the data folder).
set -e
echo "host replication idl all scram-sha-256" >> "$PGDATA/pg_hba.conf"
