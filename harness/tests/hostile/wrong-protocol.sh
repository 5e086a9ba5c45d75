# Speaks a protocol version the harness does not.
. "$(dirname "$0")/common.sh"
echo '{"hello":"zkurator-contender","protocol":7,"capabilities":{"kinds":["mutex"]}}'
exec sleep 600
