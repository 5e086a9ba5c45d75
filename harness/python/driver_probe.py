"""kazurator's lock drivers as an oracle for the differential predicate tests.

Asks kazurator (0.2.0) how a list of children sorts, whether a node holds the
lock and which node it watches otherwise, through the code kazurator itself runs
in ``internals.Lock._acquire``; no ZooKeeper server is involved. Driven by
``harness/src/differential/``.

Protocol (JSON lines, ASCII only):

- stdout line 1: ``{"ready":true,"kazurator":"0.2.0","kazoo":"2.11.0"}`` or
  ``{"ready":false,"error":"..."}``;
- then one batch per stdin line, ``{"cases":[{"question":"mutex"|"write"|"read",
  "max_leases":n,"owns_write":bool,"ours":"...","children":[...]}, ...]}``, and one
  stdout line per batch, ``{"answers":[{"sorted":[...],"decision":"holds"}, ...]}``
  with ``decision`` one of ``holds``, ``watch`` (plus ``node``), ``missing``,
  ``error`` (plus ``message``); ``{"error":"..."}`` if the batch cannot be read.

The call paths:

- one kazoo client that is never started (it never connects); its
  ``get_children`` is replaced on the instance by a function returning the case's
  children, in the case's (server) order;
- the sorted list is ``Lock.get_sorted_children()`` of the lock's own internals
  (``list.sort`` with ``driver.sort_key``);
- the decision is ``driver.is_acquirable(sorted, our_name, lock.max_leases)`` of
  that same ``Lock``, exactly as ``Lock._acquire`` calls it: ``Mutex(max_leases=n)``
  (``LockDriver``, lock name ``lock-``), and the ``write_lock`` / ``read_lock`` of a
  real ``ReadWriteLock`` (the read side's driver calls the lock's
  ``_read_is_acquirable_predicate``);
- "owns the write lock" (a downgrade): the read predicate asks
  ``write_lock.is_owned_by_current_thread``; for such a case the probe puts a
  ``_LockData`` for the current thread into the write lock's ``_thread_data``,
  asks, and removes it again;
- ``NoNodeError`` from a driver (our node not in the list) is ``missing``.
"""

import json
import os
import sys
import threading

PROBE_PATH = "/zkurator-driver-probe"


def package_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed
        return None


class Probe(object):
    def __init__(self):
        from kazoo.client import KazooClient
        from kazurator import ReadWriteLock

        self.client = KazooClient(hosts="127.0.0.1:1")  # never started
        self.children = []
        self.client.get_children = self._get_children
        self.read_write = ReadWriteLock(self.client, PROBE_PATH)
        self.mutexes = {}

    def _get_children(self, path, *args, **kwargs):
        return list(self.children)

    def _mutex(self, max_leases):
        from kazurator import Mutex

        if max_leases not in self.mutexes:
            self.mutexes[max_leases] = Mutex(self.client, PROBE_PATH, max_leases=max_leases)
        return self.mutexes[max_leases]

    def answer(self, case):
        from kazoo.exceptions import NoNodeError
        from kazurator.mutex import _LockData

        sorted_children = []
        try:
            question = case["question"]
            ours = case["ours"]
            self.children = list(case["children"])
            owner = None
            if question == "mutex":
                lock = self._mutex(int(case["max_leases"]))._lock
            elif question == "write":
                lock = self.read_write.write_lock._lock
            elif question == "read":
                lock = self.read_write.read_lock._lock
                if case.get("owns_write"):
                    owner = self.read_write.write_lock
            else:
                raise ValueError("unknown question %r" % (question,))
            sorted_children = lock.get_sorted_children()
            me = threading.current_thread()
            if owner is not None:
                owner._thread_data[me] = _LockData(PROBE_PATH + "/" + ours)
                if not owner.is_owned_by_current_thread:
                    raise RuntimeError("could not make the probe's write lock owned by this thread")
            elif self.read_write.write_lock.is_owned_by_current_thread:
                raise RuntimeError("the probe's write lock is owned by this thread")
            try:
                path_to_watch, acquirable = lock.driver.is_acquirable(
                    sorted_children, ours, lock.max_leases
                )
            finally:
                if owner is not None:
                    owner._thread_data.pop(me, None)
            if acquirable:
                return {"sorted": sorted_children, "decision": "holds"}
            return {"sorted": sorted_children, "decision": "watch", "node": path_to_watch}
        except NoNodeError:
            return {"sorted": sorted_children, "decision": "missing"}
        except Exception as exc:
            return {
                "sorted": sorted_children,
                "decision": "error",
                "message": "%s: %s" % (type(exc).__name__, exc),
            }


def main():
    # Only protocol lines go to the real stdout; stray prints go to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="ascii")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj):
        out.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=True) + "\n")
        out.flush()

    try:
        probe = Probe()
    except Exception as exc:
        send({"ready": False, "error": "%s: %s" % (type(exc).__name__, exc)})
        return 1
    send(
        {
            "ready": True,
            "kazurator": package_version("kazurator"),
            "kazoo": package_version("kazoo"),
        }
    )
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        try:
            cases = json.loads(line)["cases"]
        except Exception as exc:
            send({"error": "bad batch: %s: %s" % (type(exc).__name__, exc)})
            continue
        send({"answers": [probe.answer(case) for case in cases]})


if __name__ == "__main__":
    sys.exit(main())
