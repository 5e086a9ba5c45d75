# Forks a grandchild that ignores SIGTERM and outlives the script unless its
# process group is killed; the script itself then hangs after ready.
. "$(dirname "$0")/common.sh"
sh -c 'trap "" TERM; [ -n "$ZKH_PIDS" ] && echo $$ >> "$ZKH_PIDS"; exec sleep 600' </dev/null >/dev/null 2>&1 &
echo "$HELLO_MUTEX"
spec
ready
while :; do sleep 1; done
