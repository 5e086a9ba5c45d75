# Shared by the hostile contenders (negative controls of the gate, see
# harness/tests/checks/hostile.rs): each records its pid in $ZKH_PIDS so that the
# test can check that nothing is left running.
[ -n "$ZKH_PIDS" ] && echo $$ >> "$ZKH_PIDS"
HELLO_MUTEX='{"hello":"zkurator-contender","protocol":1,"runtime":"hostile","capabilities":{"kinds":["mutex"],"timeouts":true}}'
# Reads the spec line; at the registration probe stdin closes after the hello.
spec() {
  IFS= read -r _spec || exit 0
}
ready() {
  echo '{"ready":true}'
}
