# A hello line of 300 MB.
. "$(dirname "$0")/common.sh"
printf '{"hello":"zkurator-contender","protocol":1,"runtime":"'
head -c 300000000 /dev/zero | tr '\0' a
echo '"}'
