# Prints nothing, ever.
. "$(dirname "$0")/common.sh"
exec sleep 600
