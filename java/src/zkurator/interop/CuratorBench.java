package zkurator.interop;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

/**
 * The Curator side of {@code zkurator-harness bench}: each measurement runs its whole loop
 * inside the JVM (one call from Rust per measurement), so the cost of crossing from Rust
 * into Java is not measured. Every method returns one JSON object:
 * {@code {"ok":true,...}} or {@code {"ok":false,"error":"..."}}; nothing is thrown.
 *
 * <p>Clients are plain {@code CuratorFrameworkFactory} clients (one session each) with
 * Curator's default lock data (the local address), as an application would use them.
 * Every wait is bounded by {@code timeoutMs}.
 */
public final class CuratorBench {
    private static final int SESSION_TIMEOUT_MS = 30_000;
    private static final int CONNECTION_TIMEOUT_MS = 15_000;

    private CuratorBench() {
    }

    /** A failure that ends a measurement with a message. */
    private static final class BenchFailure extends Exception {
        BenchFailure(String message) {
            super(message);
        }
    }

    /**
     * Uncontended acquire+release cycles on one lock, one session: {@code warmup} cycles
     * not measured (JIT), then {@code iterations} measured ones.
     *
     * @param kind "mutex" (InterProcessMutex), "write" or "read" (InterProcessReadWriteLock sides)
     * @return {"ok":true,"latencies_ns":[...],"elapsed_ns":n}
     */
    public static String uncontended(String connect, String path, String kind, int warmup, int iterations,
            long timeoutMs) {
        CuratorFramework client = null;
        try {
            client = connect(connect, timeoutMs);
            InterProcessLock lock = lockOf(client, path, kind);
            for (int i = 0; i < warmup; i++) {
                cycle(lock, timeoutMs);
            }
            long[] latencies = new long[iterations];
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                long t = System.nanoTime();
                cycle(lock, timeoutMs);
                latencies[i] = System.nanoTime() - t;
            }
            long elapsed = System.nanoTime() - start;
            StringBuilder sb = new StringBuilder("{\"ok\":true,\"elapsed_ns\":").append(elapsed);
            sb.append(",\"latencies_ns\":[");
            for (int i = 0; i < latencies.length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(latencies[i]);
            }
            return sb.append("]}").toString();
        } catch (Throwable e) {
            return error(e);
        } finally {
            close(client);
        }
    }

    /**
     * {@code writers} writers, each with its own session and its own InterProcessMutex on
     * one path, acquire and release in a loop for {@code warmupMs + durationMs}; a cycle
     * counts when its release completes inside the last {@code durationMs}.
     *
     * @return {"ok":true,"handoffs":n,"measured_ns":n,"per_writer":[...]}
     */
    public static String contended(String connect, String path, int writers, long warmupMs, long durationMs,
            long timeoutMs) {
        return contended(connect, path, writers, false, warmupMs, durationMs, timeoutMs);
    }

    /**
     * As {@link #contended}, but the writers are threads sharing one session and one
     * InterProcessMutex (Curator's reentrancy is per thread, so they exclude each other).
     */
    public static String contendedShared(String connect, String path, int writers, long warmupMs,
            long durationMs, long timeoutMs) {
        return contended(connect, path, writers, true, warmupMs, durationMs, timeoutMs);
    }

    private static String contended(String connect, String path, int writers, boolean shared, long warmupMs,
            long durationMs, long timeoutMs) {
        List<CuratorFramework> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < (shared ? 1 : writers); i++) {
                clients.add(connect(connect, timeoutMs));
            }
            final InterProcessLock sharedLock = shared ? new InterProcessMutex(clients.get(0), path) : null;
            long[] counts = new long[writers];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong startAt = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < writers; i++) {
                final int index = i;
                final InterProcessLock lock = shared ? sharedLock : new InterProcessMutex(clients.get(i), path);
                Thread t = new Thread(() -> {
                    try {
                        if (!go.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                            throw new BenchFailure("never started");
                        }
                        long warmEnd = startAt.get() + TimeUnit.MILLISECONDS.toNanos(warmupMs);
                        long end = warmEnd + TimeUnit.MILLISECONDS.toNanos(durationMs);
                        long count = 0;
                        while (failure.get() == null) {
                            cycle(lock, timeoutMs);
                            long now = System.nanoTime();
                            if (now >= warmEnd && now <= end) {
                                count++;
                            }
                            if (now >= end) {
                                break;
                            }
                        }
                        counts[index] = count;
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "curator-bench-writer-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            startAt.set(System.nanoTime());
            go.countDown();
            long joinBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs + durationMs + timeoutMs);
            for (Thread t : threads) {
                long left = TimeUnit.NANOSECONDS.toMillis(joinBy - System.nanoTime());
                t.join(Math.max(1, left));
                if (t.isAlive()) {
                    throw new BenchFailure("writer " + t.getName() + " did not finish in time");
                }
            }
            if (failure.get() != null) {
                return error(failure.get());
            }
            long total = 0;
            StringBuilder per = new StringBuilder();
            for (int i = 0; i < writers; i++) {
                total += counts[i];
                if (i > 0) {
                    per.append(',');
                }
                per.append(counts[i]);
            }
            return "{\"ok\":true,\"handoffs\":" + total + ",\"measured_ns\":"
                    + TimeUnit.MILLISECONDS.toNanos(durationMs) + ",\"per_writer\":[" + per + "]}";
        } catch (Throwable e) {
            return error(e);
        } finally {
            for (Thread t : threads) {
                t.interrupt();
            }
            for (CuratorFramework c : clients) {
                close(c);
            }
        }
    }

    /**
     * {@code readers} readers (threads sharing one session, each with its own
     * InterProcessReadWriteLock) take the read lock at once; when all hold it, a writer on
     * its own session queues for the write lock behind them; once its node exists, all
     * readers release.
     *
     * @return {"ok":true,"readers_acquire_ns":n,"writer_wait_ns":n}: the time from the
     *     start until the last reader held the lock, and from the readers' release signal
     *     until the writer held it
     */
    public static String readers(String connect, String path, int readers, long timeoutMs) {
        CuratorFramework readerClient = null;
        CuratorFramework writerClient = null;
        List<Thread> threads = new ArrayList<>();
        try {
            readerClient = connect(connect, timeoutMs);
            writerClient = connect(connect, timeoutMs);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch acquired = new CountDownLatch(readers);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < readers; i++) {
                final InterProcessLock lock = new InterProcessReadWriteLock(readerClient, path).readLock();
                Thread t = new Thread(() -> {
                    try {
                        if (!go.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                            throw new BenchFailure("never started");
                        }
                        if (!lock.acquire(timeoutMs, TimeUnit.MILLISECONDS)) {
                            throw new BenchFailure("read lock not acquired within " + timeoutMs + " ms");
                        }
                        acquired.countDown();
                        release.await(timeoutMs, TimeUnit.MILLISECONDS);
                        lock.release();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "curator-bench-reader-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            long start = System.nanoTime();
            go.countDown();
            if (!acquired.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new BenchFailure("readers did not all acquire within " + timeoutMs + " ms: " + failure.get());
            }
            long readersNs = System.nanoTime() - start;

            final InterProcessLock write = new InterProcessReadWriteLock(writerClient, path).writeLock();
            AtomicLong writerGot = new AtomicLong();
            CountDownLatch writerHolds = new CountDownLatch(1);
            Thread writer = new Thread(() -> {
                try {
                    if (!write.acquire(timeoutMs, TimeUnit.MILLISECONDS)) {
                        throw new BenchFailure("write lock not acquired within " + timeoutMs + " ms");
                    }
                    writerGot.set(System.nanoTime());
                    writerHolds.countDown();
                    write.release();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    writerHolds.countDown();
                }
            }, "curator-bench-writer");
            writer.setDaemon(true);
            threads.add(writer);
            writer.start();
            waitForChildren(readerClient, path, readers + 1, timeoutMs);
            long released = System.nanoTime();
            release.countDown();
            if (!writerHolds.await(timeoutMs, TimeUnit.MILLISECONDS) || failure.get() != null) {
                throw new BenchFailure("writer did not acquire: " + failure.get());
            }
            long writerNs = writerGot.get() - released;
            for (Thread t : threads) {
                t.join(timeoutMs);
            }
            if (failure.get() != null) {
                return error(failure.get());
            }
            return "{\"ok\":true,\"readers_acquire_ns\":" + readersNs + ",\"writer_wait_ns\":" + writerNs + "}";
        } catch (Throwable e) {
            return error(e);
        } finally {
            for (Thread t : threads) {
                t.interrupt();
            }
            close(readerClient);
            close(writerClient);
        }
    }

    // --------------------------------------------------------------- internals

    private static CuratorFramework connect(String connect, long timeoutMs) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(CONNECTION_TIMEOUT_MS)
                .retryPolicy(new RetryNTimes(3, 100))
                .build();
        client.start();
        if (!client.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, timeoutMs), TimeUnit.MILLISECONDS)) {
            client.close();
            throw new BenchFailure("could not connect to ZooKeeper at " + connect + " within " + timeoutMs + " ms");
        }
        return client;
    }

    private static InterProcessLock lockOf(CuratorFramework client, String path, String kind) throws BenchFailure {
        switch (kind) {
            case "mutex":
                return new InterProcessMutex(client, path);
            case "write":
                return new InterProcessReadWriteLock(client, path).writeLock();
            case "read":
                return new InterProcessReadWriteLock(client, path).readLock();
            case "lease":
                return new OneLease(new InterProcessSemaphoreV2(client, path, 3));
            case "raw":
                try {
                    return new RawCycle(client, path);
                } catch (Exception e) {
                    throw new BenchFailure("cannot prepare the raw cycle on " + path + ": " + e);
                }
            default:
                throw new BenchFailure("unknown lock kind " + kind);
        }
    }

    /** One lease of an InterProcessSemaphoreV2, as a lock (acquire takes it, release returns it). */
    private static final class OneLease implements InterProcessLock {
        private final InterProcessSemaphoreV2 semaphore;
        private Lease lease;

        OneLease(InterProcessSemaphoreV2 semaphore) {
            this.semaphore = semaphore;
        }

        @Override
        public void acquire() throws Exception {
            lease = semaphore.acquire();
        }

        @Override
        public boolean acquire(long time, TimeUnit unit) throws Exception {
            lease = semaphore.acquire(time, unit);
            return lease != null;
        }

        @Override
        public void release() throws Exception {
            Lease held = lease;
            lease = null;
            if (held == null) {
                throw new IllegalStateException("no lease held");
            }
            held.close();
        }

        @Override
        public boolean isAcquiredInThisProcess() {
            return lease != null;
        }
    }

    private static void cycle(InterProcessLock lock, long timeoutMs) throws Exception {
        if (!lock.acquire(timeoutMs, TimeUnit.MILLISECONDS)) {
            throw new BenchFailure("lock not acquired within " + timeoutMs + " ms");
        }
        lock.release();
    }

    /** Polls until the lock path has {@code count} children (bounded by timeoutMs). */
    private static void waitForChildren(CuratorFramework client, String path, int count, long timeoutMs)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            try {
                if (client.getChildren().forPath(path).size() >= count) {
                    return;
                }
            } catch (KeeperException.NoNodeException e) {
                // not created yet
            }
            Thread.sleep(1);
        }
        throw new BenchFailure(path + " did not reach " + count + " children within " + timeoutMs + " ms");
    }

    private static void close(CuratorFramework client) {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException ignored) {
                // closing is best effort
            }
        }
    }

    private static String error(Throwable e) {
        String message = e.getClass().getSimpleName() + ": " + e.getMessage();
        return "{\"ok\":false,\"error\":" + Wire.str(message) + "}";
    }
}
