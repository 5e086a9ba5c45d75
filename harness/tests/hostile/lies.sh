# Declares a mutex with timeouts, then says at every start that it has none.
. "$(dirname "$0")/common.sh"
echo "$HELLO_MUTEX"
spec
echo '{"ready":false,"unsupported":true,"error":"mutex? never heard of it"}'
