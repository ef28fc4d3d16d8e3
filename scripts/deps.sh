#!/usr/bin/env bash
# Installs what the demo, tests and benchmarks need on a Debian machine,
# only when it is missing. Usage: scripts/deps.sh [test|bench]
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
case "${1:-}" in
test)
	# Debian's python3, which the tests look for first (PATH may hold another).
	/usr/bin/python3 -c 'import redis' 2>/dev/null || need+=(python3-redis)
	command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
	# Partition tests: namespaces (ip) and faults at the bridge (nft).
	command -v ip >/dev/null || need+=(iproute2)
	command -v nft >/dev/null || need+=(nftables)
	;;
bench)
	command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
	command -v ip >/dev/null || need+=(iproute2)
	command -v nft >/dev/null || need+=(nftables)
	# Loaded drills; the proxy figures beside HAProxy.
	command -v stress-ng >/dev/null || need+=(stress-ng)
	command -v haproxy >/dev/null || need+=(haproxy)
	;;
esac
if ((${#need[@]})); then
	echo "installing: ${need[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the packaged services; our tests start their own on free ports.
for svc in redis-server redis-sentinel; do
	if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done
command -v go >/dev/null || { echo "Go is required (https://go.dev/dl)"; exit 1; }
