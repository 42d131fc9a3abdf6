#!/bin/sh
set -e
# one-off: migrations run before the server, with their own short-lived connection
alembic upgrade head
exec "$@"
