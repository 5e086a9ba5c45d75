"""One lock contender of the zkurator interop harness, in Python.

One process is one contender: one KazooClient session and one lock handle,
either kazurator's Curator-compatible recipes (runtime "kazurator") or kazoo's
own Lock / ReadLock / WriteLock (runtime "kazoo-native", the negative control).

It speaks the contender protocol (docs/contender-protocol.md), run as
`contender.py --runtime kazurator|kazoo-native`:

    stdout line 1:  the hello: versions and the runtime's capabilities
    stdin  line 1:  ContenderSpec plus {"runtime": "kazurator" | "kazoo-native"}
    stdout line 2:  {"ready": true, "kazurator": "0.2.0", "kazoo": "2.11.0", ...}
                    or {"ready": false, "unsupported": bool, "error": "..."}
    then per line:  one Command in, exactly one Reply out.

Every command runs on the main thread, so kazurator's per-thread reentrancy
holds across commands. Only protocol lines go to stdout: file descriptor 1 is
pointed at stderr at start-up and the protocol uses a private duplicate, so
logging and stray prints cannot corrupt the stream.
"""

import json
import logging
import os
import signal
import sys
import threading
import time

from adapters import (
    KazooNativeAdapter,
    KazuratorAdapter,
    Unsupported,
    duration_secs,
    session_credentials,
)

PROTO_OUT = None
LOG = logging.getLogger("zkurator.contender")

# The client of this contender, once made: closed when the harness goes away.
CLIENT = None


def die_with_harness():
    """Ends this process when the harness does: on SIGTERM (the parent-death
    signal the harness asks for) and when the parent process changes (a
    check every 200 ms), even while the main thread waits in an acquire.
    The session is closed first where that can be done within 2 s."""
    parent = os.getppid()

    def shutdown(*_):
        threading.Timer(2.0, os._exit, [0]).start()
        client = CLIENT
        if client is not None:
            try:
                client.stop()
                client.close()
            except Exception:  # the process ends anyway
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.2)
        shutdown()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def send(obj):
    PROTO_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    PROTO_OUT.flush()


def package_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed
        return None


def handle(adapter, cmd):
    """Runs one Command, returns one Reply (as serde's JSON shape)."""
    op = cmd.get("op")
    try:
        if op == "acquire":
            node = adapter.acquire(cmd["side"], duration_secs(cmd.get("timeout")))
            return {"reply": "granted", "node": node}
        if op == "release":
            adapter.release(cmd["side"])
            return {"reply": "ok"}
        if op == "participants":
            return {"reply": "participants", "nodes": adapter.participants()}
        if op == "make-revocable":
            adapter.make_revocable(cmd["side"])
            return {"reply": "ok"}
        if op == "revoke":
            adapter.revoke(cmd["node"])
            return {"reply": "ok"}
        if op == "status":
            return {
                "reply": "status",
                "held": [[side, count] for side, count in adapter.held()],
                "nodes": adapter.owned_nodes(),
                "revoked": [],
            }
        if op == "read-value":
            data, _ = adapter.client.get(cmd["counter"])
            adapter.remembered = int(data.decode().strip())
            return {"reply": "value", "value": adapter.remembered}
        if op == "write-value":
            return write_value(adapter, cmd)
        if op == "close":
            adapter.close()
            return {"reply": "ok"}
        return {"reply": "error", "kind": "other", "message": "unknown command %r" % (op,)}
    except Exception as exc:
        LOG.debug("%s failed", op, exc_info=True)
        kind, message = adapter.classify(exc)
        return {"reply": "error", "kind": kind, "message": message}


def write_value(adapter, cmd):
    """Lost-update workload: writes the value read last + 1 into the counter.
    kazurator has no guarded write and no fencing token: plain only."""
    from kazoo.exceptions import ConnectionLoss

    if cmd["protection"] != "plain":
        return {"reply": "error", "kind": "unsupported",
                "message": "%s writes are not offered by kazurator" % cmd["protection"]}
    remembered = getattr(adapter, "remembered", None)
    if remembered is None:
        return {"reply": "error", "kind": "not-held", "message": "write-value without a read-value"}
    adapter.remembered = None
    try:
        adapter.client.set(cmd["counter"], str(remembered + 1).encode())
    except ConnectionLoss as exc:
        return {"reply": "error", "kind": "unknown", "message": "ConnectionLoss: %s" % exc}
    return {"reply": "ok"}


def start(spec):
    """Connects and builds the adapter; returns (adapter, ready line)."""
    runtime = spec.get("runtime")
    from kazoo.client import KazooClient

    adapters = {"kazurator": KazuratorAdapter, "kazoo-native": KazooNativeAdapter}
    if runtime not in adapters:
        raise Unsupported("unknown runtime %r" % (runtime,))
    session_timeout = duration_secs(spec["session_timeout"])
    global CLIENT
    client = KazooClient(hosts=spec["connect"], timeout=session_timeout)
    CLIENT = client
    client.start(timeout=max(10.0, session_timeout))
    try:
        adapter = adapters[runtime](client, spec)
    except Exception:
        client.stop()
        client.close()
        raise
    ready = {
        "ready": True,
        "kazurator": package_version("kazurator"),
        "kazoo": package_version("kazoo"),
        "lock_data": adapter.lock_data_stored,
        "session_id": session_credentials(client)[0],
        "session_password": session_credentials(client)[1],
        "session_timeout_ms": client._session_timeout,
    }
    return adapter, ready


# What each runtime declares in its hello (docs/contender-protocol.md); the
# harness checks it against its capability table. Fields left out are false.
CAPABILITIES = {
    "kazurator": {
        "kinds": ["mutex", "read-write"],
        "leases": True,
        "timeouts": True,
        "reentrant": True,
        "reentrant_leases": True,
        "downgrade": True,
        "revocation": True,
        "participants": True,
        "workloads": ["plain"],
        "session_credentials": True,
    },
    "kazoo-native": {
        "kinds": ["mutex", "read-write"],
        "timeouts": True,
        "lock_data": True,
        "participants": True,
        "session_credentials": True,
    },
}


def runtime_argument(argv):
    """The value of `--runtime NAME` (kazurator when not given)."""
    if "--runtime" in argv:
        at = argv.index("--runtime")
        if at + 1 < len(argv):
            return argv[at + 1]
    return "kazurator"


def hello(runtime):
    """The protocol's first line: versions and capabilities of `runtime`."""
    return {
        "hello": "zkurator-contender",
        "protocol": 1,
        "runtime": runtime,
        "versions": {
            name: package_version(name) for name in ("kazurator", "kazoo") if package_version(name)
        },
        "capabilities": CAPABILITIES.get(runtime, {}),
    }


def main():
    global PROTO_OUT, LOG
    PROTO_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("ZKURATOR_PY_LOG", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    die_with_harness()
    runtime = runtime_argument(sys.argv[1:])
    send(hello(runtime))
    line = sys.stdin.readline()
    if not line:
        return 0
    try:
        spec = json.loads(line)
        LOG = logging.getLogger("zkurator.contender.%s" % spec.get("id", "?"))
        adapter, ready = start(spec)
    except Exception as exc:
        LOG.exception("start failed")
        send(
            {
                "ready": False,
                "unsupported": isinstance(exc, Unsupported),
                "error": "%s: %s" % (type(exc).__name__, exc),
            }
        )
        return 1
    send(ready)

    while True:
        line = sys.stdin.readline()
        if not line:
            # The harness went away: end the session cleanly.
            adapter.client.stop()
            adapter.client.close()
            return 0
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            send({"reply": "error", "kind": "other", "message": "bad command line: %s" % exc})
            continue
        reply = handle(adapter, cmd)
        send(reply)
        if cmd.get("op") == "close":
            return 0


if __name__ == "__main__":
    sys.exit(main())
