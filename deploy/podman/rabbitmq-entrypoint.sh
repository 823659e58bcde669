#!/bin/sh
# The default user comes from RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS (created on the
# first start, as the official image does); the broker runs as the `rabbitmq` system user.
set -eu
{
    echo "default_user = ${RABBITMQ_DEFAULT_USER:-guest}"
    echo "default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}"
} > /etc/rabbitmq/rabbitmq.conf
chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq.conf
chmod 600 /etc/rabbitmq/rabbitmq.conf
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
export HOME=/var/lib/rabbitmq
# Logs to the console, where podman collects them, instead of files in the container.
export RABBITMQ_LOGS=-
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$@"
