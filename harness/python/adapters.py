"""kazoo-side adapters of the contender (see contender.py): kazurator's
Curator-compatible recipes and kazoo's own locks behind one interface, and the
session helpers they share."""

import logging
import re
import sys
import threading
import time

LOG = logging.getLogger("zkurator.contender")

REVOKE_MESSAGE = b"__REVOKE__"
# Prefix of the stderr line announcing a session (see announce_session).
SESSION_MARKER = "ZKURATOR-SESSION"

# kazurator's wait for a zero timeout: it reads 0 itself as "forever".
TRY_ONCE_SECS = 1e-6


class Unsupported(Exception):
    """The runtime has no such feature."""


class NotHeld(Exception):
    """A release or use of a side the contender does not hold."""


class NotAcquired(Exception):
    """An acquire that returned False instead of raising."""


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
