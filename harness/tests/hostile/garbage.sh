# Its first line is not JSON.
. "$(dirname "$0")/common.sh"
echo 'Welcome to my lock service!'
exec sleep 600
