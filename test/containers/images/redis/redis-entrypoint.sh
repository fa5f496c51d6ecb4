#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = "redis-server" ]; then
	shift
	set -- redis-server --protected-mode no "$@"
	[ "$(id -u)" = "0" ] && exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
