"""The kazurator side of `zkurator-harness bench`.

One process runs one measurement, with its whole loop inside Python, so the
cost of talking to the Rust harness is not measured. The Rust side
(harness/src/bench/kazurator.rs) drives it with JSON lines:

    stdin  line 1:  {"mode": "uncontended" | "contended" | "readers",
                     "connect": "host:port", "path": "/lock/path", ...}
    stdout line 1:  {"ready": true, "kazurator": "0.2.0", "kazoo": "2.11.0"}
                    once connected (or {"ready": false, "error": "..."})
    stdin  line 2:  "go" (all writers of a contended run get it together)
    stdout line 2:  {"ok": true, ...results} or {"ok": false, "error": "..."}

Modes:
    uncontended  kinds: ["mutex", "write", "read"], warmup, iterations:
                 acquire+release cycles on one session; per kind
                 {"latencies_ns": [...], "elapsed_ns": n}.
    contended    one writer (one session, kazurator Mutex): cycles for
                 warmup_secs + duration_secs; {"handoffs": n} counts the cycles
                 whose release completed in the last duration_secs.
    readers      `readers` threads sharing one session, each its own
                 ReadWriteLock, take the read lock at once; then a writer on
                 its own session queues behind them; once its node exists the
                 readers release. Done `repeats` times:
                 {"repeats": [[readers_acquire_ns, writer_wait_ns], ...]}.

Every wait is bounded by "timeout_secs". Only protocol lines go to stdout
(file descriptor 1 is pointed at stderr, as in contender.py).
"""

import json
import os
import sys
import threading
import time

PROTO_OUT = None


def send(obj):
    PROTO_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    PROTO_OUT.flush()


def package_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed
        return None


class BenchFailure(Exception):
    """A measurement that cannot complete."""


def connect(spec):
    from kazoo.client import KazooClient

    client = KazooClient(hosts=spec["connect"], timeout=30.0)
    client.start(timeout=spec["timeout_secs"])
    return client


def close(client):
    try:
        client.stop()
        client.close()
    except Exception:
        pass


def lock_of(client, path, kind, timeout):
    from kazurator import Mutex, ReadWriteLock

    if kind == "mutex":
        lock = Mutex(client, path)
    elif kind == "write":
        lock = ReadWriteLock(client, path).write_lock
    elif kind == "read":
        lock = ReadWriteLock(client, path).read_lock
    else:
        raise BenchFailure("unknown lock kind %r" % (kind,))
    # kazurator waits at most this long per wake-up (None would be forever).
    lock.timeout = timeout
    return lock


def cycle(lock):
    if not lock.acquire():
        raise BenchFailure("kazurator acquire returned False")
    lock.release()


def uncontended(spec, clients):
    client = clients[0]
    results = {}
    for kind in spec["kinds"]:
        lock = lock_of(client, "%s-%s" % (spec["path"], kind), kind, spec["timeout_secs"])
        for _ in range(spec["warmup"]):
            cycle(lock)
        latencies = []
        clock = time.perf_counter_ns
        start = clock()
        for _ in range(spec["iterations"]):
            t = clock()
            cycle(lock)
            latencies.append(clock() - t)
        results[kind] = {"latencies_ns": latencies, "elapsed_ns": clock() - start}
    return {"ok": True, "runs": results}


def contended(spec, clients):
    lock = lock_of(clients[0], spec["path"], "mutex", spec["timeout_secs"])
    start = time.monotonic()
    warm_end = start + spec["warmup_secs"]
    end = warm_end + spec["duration_secs"]
    count = 0
    while True:
        cycle(lock)
        now = time.monotonic()
        if warm_end <= now <= end:
            count += 1
        if now >= end:
            break
    return {"ok": True, "handoffs": count}


def wait_for_children(client, path, count, timeout):
    from kazoo.exceptions import NoNodeError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(client.get_children(path)) >= count:
                return
        except NoNodeError:
            pass
        time.sleep(0.001)
    raise BenchFailure("%s did not reach %d children in %s s" % (path, count, timeout))


def readers(spec, clients):
    repeats = [readers_once(spec, clients) for _ in range(spec["repeats"])]
    return {"ok": True, "repeats": repeats}


def readers_once(spec, clients):
    reader_client, writer_client = clients
    path, n, timeout = spec["path"], spec["readers"], spec["timeout_secs"]
    go = threading.Event()
    release = threading.Event()
    acquired = threading.Semaphore(0)
    failures = []

    def reader(lock):
        try:
            if not go.wait(timeout):
                raise BenchFailure("never started")
            if not lock.acquire():
                raise BenchFailure("read lock not acquired")
            acquired.release()
            release.wait(timeout)
            lock.release()
        except Exception as exc:  # reported below
            failures.append(exc)
            acquired.release()

    threads = []
    for _ in range(n):
        lock = lock_of(reader_client, path, "read", timeout)
        t = threading.Thread(target=reader, args=(lock,), daemon=True)
        t.start()
        threads.append(t)
    clock = time.perf_counter_ns
    start = clock()
    go.set()
    for _ in range(n):
        if not acquired.acquire(timeout=timeout):
            raise BenchFailure("readers did not all acquire in %s s" % timeout)
    readers_ns = clock() - start
    if failures:
        raise failures[0]

    write = lock_of(writer_client, path, "write", timeout)
    writer_got = []
    writer_holds = threading.Event()

    def writer():
        try:
            if not write.acquire():
                raise BenchFailure("write lock not acquired")
            writer_got.append(clock())
            writer_holds.set()
            write.release()
        except Exception as exc:
            failures.append(exc)
            writer_holds.set()

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    threads.append(w)
    wait_for_children(reader_client, path, n + 1, timeout)
    released = clock()
    release.set()
    if not writer_holds.wait(timeout) or failures:
        raise BenchFailure("writer did not acquire: %r" % (failures[:1],))
    writer_ns = writer_got[0] - released
    for t in threads:
        t.join(timeout)
    if failures:
        raise failures[0]
    return [readers_ns, writer_ns]


MODES = {"uncontended": (uncontended, 1), "contended": (contended, 1), "readers": (readers, 2)}


def main():
    global PROTO_OUT
    PROTO_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    line = sys.stdin.readline()
    if not line:
        return 0
    clients = []
    try:
        spec = json.loads(line)
        run, sessions = MODES[spec["mode"]]
        for _ in range(sessions):
            clients.append(connect(spec))
    except Exception as exc:
        send({"ready": False, "error": "%s: %s" % (type(exc).__name__, exc)})
        for client in clients:
            close(client)
        return 1
    send({"ready": True, "kazurator": package_version("kazurator"), "kazoo": package_version("kazoo")})
    try:
        if sys.stdin.readline().strip() != "go":
            return 0
        try:
            result = run(spec, clients)
        except Exception as exc:
            result = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
        send(result)
    finally:
        for client in clients:
            close(client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
