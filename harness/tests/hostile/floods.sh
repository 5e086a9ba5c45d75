# Says ready, then floods stderr (64 MiB, one line, then 200,000 short lines)
# and stdout (lines that are no replies).
. "$(dirname "$0")/common.sh"
echo "$HELLO_MUTEX"
spec
ready
head -c 67108864 /dev/zero | tr '\0' x >&2
yes 'stderr flood' | head -n 200000 >&2
yes '{"noise":true}' | head -n 200000
