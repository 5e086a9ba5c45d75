# Declares that it can do nothing.
. "$(dirname "$0")/common.sh"
echo '{"hello":"zkurator-contender","protocol":1,"runtime":"nothing","capabilities":{}}'
spec
echo '{"ready":false,"error":"I do nothing"}'
