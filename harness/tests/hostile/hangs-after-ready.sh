# Says ready, then never answers.
. "$(dirname "$0")/common.sh"
echo "$HELLO_MUTEX"
spec
ready
exec sleep 600
