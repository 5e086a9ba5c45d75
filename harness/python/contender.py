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
import re
import signal
import sys
import threading
import time

PROTO_OUT = None
LOG = logging.getLogger("zkurator.contender")

REVOKE_MESSAGE = b"__REVOKE__"
# Prefix of the stderr line announcing a session (see announce_session).
SESSION_MARKER = "ZKURATOR-SESSION"

# kazurator's wait for a zero timeout: it reads 0 itself as "forever".
TRY_ONCE_SECS = 1e-6

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


class Unsupported(Exception):
    """The runtime has no such feature."""


class NotHeld(Exception):
    """A release or use of a side the contender does not hold."""


class NotAcquired(Exception):
    """An acquire that returned False instead of raising."""


def send(obj):
    PROTO_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    PROTO_OUT.flush()


def package_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed
        return None


def duration_secs(value):
    """serde's Duration is {"secs": u64, "nanos": u32}; None means forever."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value["secs"] + value["nanos"] / 1e9
    return float(value)


def parse_kind(kind):
    """serde's LockKind: {"mutex": {"max_leases": n}} or "read-write"."""
    if kind == "read-write":
        return ("read-write", None)
    if isinstance(kind, dict) and "mutex" in kind:
        return ("mutex", int(kind["mutex"]["max_leases"]))
    raise ValueError("unknown lock kind %r" % (kind,))


def full_path(base, child):
    return base.rstrip("/") + "/" + child


class Adapter(object):
    """Common part: one client, the sides of one lock, errors."""

    sides = ()

    def __init__(self, client, spec):
        self.client = client
        self.lock_path = spec["lock_path"]
        self.lost = False
        client.add_listener(self._state_listener)

    def _state_listener(self, state):
        from kazoo.protocol.states import KazooState

        if state == KazooState.LOST:
            self.lost = True
        LOG.info("connection state %s", state)
        if state == KazooState.CONNECTED:
            announce_session(self.client)

    def side_lock(self, side):
        try:
            return self.locks[side]
        except KeyError:
            raise ValueError(
                "side %r does not exist on this lock (sides: %s)"
                % (side, ", ".join(self.sides))
            )

    def revoke(self, node):
        from kazoo.exceptions import NoNodeError

        # Like Curator's Revoker.attemptRevoke: a node that is gone is fine.
        try:
            self.client.set(node, REVOKE_MESSAGE)
        except NoNodeError:
            LOG.info("revoke: %s does not exist", node)

    def make_revocable(self, side):
        self.side_lock(side)
        raise Unsupported("%s has no lock revocation" % self.name)

    def session_gone(self):
        from kazoo.protocol.states import KazooState

        return self.lost or self.client.state == KazooState.LOST

    def classify(self, exc):
        from kazoo.exceptions import (
            ConnectionClosedError,
            LockTimeout,
            NoAuthError,
            SessionExpiredError,
        )

        message = "%s: %s" % (type(exc).__name__, exc)
        if isinstance(exc, LockTimeout):
            return "timeout", message
        if isinstance(exc, NotHeld):
            return "not-held", str(exc)
        if isinstance(exc, Unsupported):
            return "unsupported", str(exc)
        if isinstance(exc, (SessionExpiredError, ConnectionClosedError)):
            return "session-lost", message
        if isinstance(exc, NoAuthError):
            return "no-auth", message
        if self.session_gone():
            return "session-lost", message
        if isinstance(exc, NotAcquired):
            return exc.args[1], exc.args[0]
        return "other", message

    def close(self):
        for side, count in self.held():
            for _ in range(count):
                try:
                    self.release(side)
                except Exception as exc:  # report, keep closing
                    LOG.warning("close: release %s failed: %r", side, exc)
        self.client.stop()
        self.client.close()


class KazuratorAdapter(Adapter):
    """kazurator's Mutex (lock- nodes, max_leases) and ReadWriteLock."""

    name = "kazurator"
    lock_data_stored = False  # kazurator creates every lock node with b""

    def __init__(self, client, spec):
        super(KazuratorAdapter, self).__init__(client, spec)
        from kazurator import Mutex, ReadWriteLock

        kind, max_leases = parse_kind(spec["kind"])
        if kind == "mutex":
            self.lock = Mutex(client, self.lock_path, max_leases=max_leases)
            self.locks = {"mutex": self.lock}
            self.sides = ("mutex",)
        else:
            self.lock = ReadWriteLock(client, self.lock_path)
            self.locks = {"read": self.lock.read_lock, "write": self.lock.write_lock}
            self.sides = ("read", "write")
        if spec.get("lock_data") is not None:
            LOG.warning("kazurator cannot store lock data; lock_data ignored")

    @staticmethod
    def _own(mutex):
        # kazurator keeps {thread: _LockData(path, count)} per Mutex.
        return mutex._thread_data.get(threading.current_thread())

    def acquire(self, side, timeout):
        mutex = self.side_lock(side)
        # kazurator 0.2.0 has no timeout argument: acquire() waits per wake-up
        # for mutex.timeout seconds, where None *and 0* mean forever. A zero
        # timeout means "try once" (as Curator's acquire(0, ms) and zkurator's
        # lock_timeout(0)): one create and list, then a wait of 1 microsecond.
        wait = TRY_ONCE_SECS if timeout == 0 else timeout
        mutex.timeout = wait
        # kazurator 0.1.x keeps it as _timeout, default 1 s (None waits forever).
        if hasattr(mutex, "_timeout"):
            mutex._timeout = wait
        if not mutex.acquire():
            # Happens when the client is not connected while waiting; the
            # node is then left in place.
            raise NotAcquired(
                "kazurator acquire returned False (client state %s)" % self.client.state,
                "other",
            )
        return self._own(mutex).path

    def release(self, side):
        mutex = self.side_lock(side)
        try:
            mutex.release()
        except RuntimeError as exc:  # threading.ThreadError
            if "own the lock" in str(exc) or "negative" in str(exc):
                raise NotHeld(str(exc))
            raise

    def participants(self):
        # kazurator's own list, unchanged: the harness compares it with the
        # server's lock order, so a deviation shows instead of being hidden.
        return list(self.lock.get_participant_nodes())

    def held(self):
        out = []
        for side in self.sides:
            data = self._own(self.locks[side])
            if data is not None and data.count > 0:
                out.append((side, data.count))
        return out

    def owned_nodes(self):
        out = []
        for side in self.sides:
            data = self._own(self.locks[side])
            if data is not None and data.count > 0:
                out.append(data.path)
        return out


class KazooNativeAdapter(Adapter):
    """kazoo's own Lock / ReadLock / WriteLock (not Curator compatible)."""

    name = "kazoo"
    lock_data_stored = True  # as the identifier, UTF-8 text only

    def __init__(self, client, spec):
        super(KazooNativeAdapter, self).__init__(client, spec)
        from kazoo.recipe.lock import Lock, ReadLock, WriteLock

        kind, max_leases = parse_kind(spec["kind"])
        identifier = None
        if spec.get("lock_data") is not None:
            try:
                identifier = bytes(spec["lock_data"]).decode("utf-8")
            except UnicodeDecodeError:
                raise Unsupported("kazoo stores lock data as UTF-8 text only")
        if kind == "mutex":
            if max_leases != 1:
                raise Unsupported(
                    "kazoo-native has no max_leases mutex (max_leases=%d)" % max_leases
                )
            self.locks = {"mutex": Lock(client, self.lock_path, identifier)}
            self.sides = ("mutex",)
            self.order_lock = self.locks["mutex"]
        else:
            self.locks = {
                "read": ReadLock(client, self.lock_path, identifier),
                "write": WriteLock(client, self.lock_path, identifier),
            }
            self.sides = ("read", "write")
            self.order_lock = self.locks["write"]

    def acquire(self, side, timeout):
        lock = self.side_lock(side)
        # Not reentrant: a second acquire retries until the timeout and then
        # returns False (forever without a timeout).
        if not lock.acquire(blocking=True, timeout=timeout):
            raise NotAcquired(
                "kazoo Lock.acquire returned False (not acquired within %s s)" % timeout,
                "timeout",
            )
        return full_path(lock.path, lock.node)

    def release(self, side):
        if not self.side_lock(side).release():
            raise NotHeld("kazoo lock %s side is not acquired" % side)

    def participants(self):
        # kazoo's contenders() reports node data only; list the same nodes
        # (names matching the lock's patterns, ordered by sequence) as paths.
        lock = self.order_lock
        names = lock._exclude_names | {lock._NODE_NAME}
        pattern = re.compile(r"(?:%s)(-?\d{10})$" % "|".join(sorted(names)))
        matches = [pattern.search(c) for c in self.client.get_children(self.lock_path)]
        matches = sorted((m for m in matches if m), key=lambda m: m.groups())
        return [full_path(self.lock_path, m.string) for m in matches]

    def held(self):
        return [(side, 1) for side in self.sides if self.locks[side].is_acquired]

    def owned_nodes(self):
        return [
            full_path(self.lock_path, self.locks[side].node)
            for side in self.sides
            if self.locks[side].is_acquired and self.locks[side].node
        ]


def session_credentials(client):
    """(id as 0x..., password as hex) of the client's current session."""
    session_id, password = client.client_id
    return "0x%x" % session_id, bytes(password).hex()


def announce_session(client):
    """Tells the harness (on stderr, out of band) the current session's id and
    password, so it can expire the session while this process is busy."""
    try:
        session_id, password = session_credentials(client)
    except Exception:  # not connected (yet)
        return
    sys.stderr.write("%s %s %s\n" % (SESSION_MARKER, session_id, password))
    sys.stderr.flush()


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
