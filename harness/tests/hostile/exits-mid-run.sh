# Says ready, then exits on its first command.
. "$(dirname "$0")/common.sh"
echo "$HELLO_MUTEX"
spec
ready
IFS= read -r _command
echo 'bye' >&2
exit 3
