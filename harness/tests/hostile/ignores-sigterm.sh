# Says ready, never answers, and ignores SIGTERM (and stdin's end).
trap '' TERM
. "$(dirname "$0")/common.sh"
echo "$HELLO_MUTEX"
spec
ready
while :; do sleep 1; done
