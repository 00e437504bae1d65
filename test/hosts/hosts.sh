#!/usr/bin/env bash
# `npm run test:hosts`: the service on separate hosts, one of each kind killed under load
# (docs/SCALING.md, "Separate hosts, tested"). Network namespaces joined by veth pairs to one
# bridge stand for the hosts; the bridge lives in a namespace of its own, so no address and no
# port of this machine's own network (its loopback included) carries any of the traffic:
#
#   db   10.231.0.2   PostgreSQL (the embedded PostgreSQL's binaries, listening on that address)
#   api1 10.231.0.11  api2 10.231.0.12   `node dist/api/main.js`, configured as in production
#   wrk1 10.231.0.21  wrk2 10.231.0.22   `node dist/worker/main.js`
#   cli  10.231.0.100 the simulated fleet, and test/hosts/run.ts, which starts and kills the rest
#
# Needs root (ip netns); without it the suite is skipped with a message and exit 0. Every
# namespace, every process in one and the scratch directory go on exit, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() {
  echo "test:hosts skipped: $1" >&2
  exit 0
}
[ "$(id -u)" = 0 ] || skip "network namespaces need root (run it as root: sudo npm run test:hosts)"
command -v ip >/dev/null 2>&1 || skip "no ip(8) command (Debian: apt-get install iproute2)"
command -v setpriv >/dev/null 2>&1 || skip "no setpriv(1) to run PostgreSQL as a non-root user (Debian: util-linux)"
getent passwd postgres >/dev/null || skip "no 'postgres' system user to run PostgreSQL as (useradd --system postgres)"

prefix="ath$$"
probe_err="$(ip netns add "$prefix-probe" 2>&1)" || skip "ip netns add is not permitted here: $probe_err"
ip netns del "$prefix-probe"

work="$(mktemp -d /tmp/attendance-hosts.XXXXXX)"
hosts=(db api1 api2 wrk1 wrk2 cli)
declare -A addr=([db]=2 [api1]=11 [api2]=12 [wrk1]=21 [wrk2]=22 [cli]=100)

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for h in "${hosts[@]}" net; do
    if [ -e "/run/netns/$prefix-$h" ]; then ip netns pids "$prefix-$h" | xargs -r kill -9 2>/dev/null || true; fi
  done
  for h in "${hosts[@]}" net; do
    [ -e "/run/netns/$prefix-$h" ] && ip netns del "$prefix-$h" 2>/dev/null || true
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The processes run the compiled sources, as in production.
node_modules/.bin/tsx tools/build.ts --if-stale >/dev/null

# The switch: a bridge in a namespace of its own; each host a namespace with one veth to it.
ip netns add "$prefix-net"
ip -n "$prefix-net" link add br0 type bridge
ip -n "$prefix-net" link set br0 up
for h in "${hosts[@]}"; do
  ip netns add "$prefix-$h"
  ip link add eth0 netns "$prefix-$h" type veth peer name "$h" netns "$prefix-net"
  ip -n "$prefix-net" link set "$h" master br0 up
  ip -n "$prefix-$h" addr add "10.231.0.${addr[$h]}/24" dev eth0
  ip -n "$prefix-$h" link set eth0 up
  ip -n "$prefix-$h" link set lo up
done

export HOSTS_PREFIX="$prefix" HOSTS_WORK="$work" HOSTS_SUBNET="10.231.0.0/24"
for h in "${hosts[@]}"; do export "HOSTS_ADDR_${h^^}=10.231.0.${addr[$h]}"; done
# The run itself is bounded (test/hosts/run.ts gives up after HOSTS_TIMEOUT_SECONDS); this is the backstop.
# In the background and waited for, so that a signal to this script runs the cleanup at once.
timeout --signal=KILL "${HOSTS_TIMEOUT_SECONDS:-300}" ip netns exec "$prefix-cli" node --import tsx test/hosts/run.ts "$@" &
wait $!
