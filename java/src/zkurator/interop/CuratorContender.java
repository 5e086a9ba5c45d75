package zkurator.interop;

import static zkurator.interop.Wire.describe;
import static zkurator.interop.Wire.error;
import static zkurator.interop.Wire.ok;
import static zkurator.interop.Wire.strs;
import static zkurator.interop.Wire.unhex;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.curator.CuratorConnectionLossException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphore;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * One interop-harness contender backed by real Apache Curator: its own
 * CuratorFramework (one ZooKeeper session) and its own lock handle.
 *
 * <p>Thread ownership: Curator's InterProcessMutex and the read/write lock are
 * owned by the Java thread that acquired them. Every lock operation of this
 * contender therefore runs on one dedicated Java thread (a single-thread
 * executor created per contender); the public methods may be called from any
 * thread and wait for that thread's result. This also lets a revocation request
 * (which Curator reports on its own event thread) release the lock on the owning
 * thread as soon as that thread is free.
 *
 * <p>Every command method returns one reply as JSON, in exactly the shape the
 * Rust harness's {@code Reply} enum deserialises:
 * {"reply":"ok"}, {"reply":"granted","node":...}, {"reply":"participants","nodes":[...]},
 * {"reply":"status","held":[["read",1]],"nodes":[...],"revoked":[...]},
 * {"reply":"error","kind":"timeout|not-held|session-lost|no-auth|unsupported|other","message":...}.
 *
 * <p>Lock handles:
 * <ul>
 * <li>mutex, 1 lease: {@link InterProcessMutex} (a subclass only to reach the
 *     protected {@code getLockPath()} / {@code getLockNodeBytes()} hooks);</li>
 * <li>mutex, n &gt; 1 leases: the (deprecated) {@link InterProcessSemaphore}, which
 *     uses the mutex layout ({@code lock-} nodes under the path) with maxLeases = n.
 *     It is not reentrant: every acquire takes one more lease (one more node);
 *     release returns the most recently taken lease;</li>
 * <li>semaphore, 1 lease: {@link InterProcessSemaphoreMutex} (its held node read back
 *     through its private lease field: Curator does not expose it).</li>
 * <li>semaphore, n &gt; 1 leases: {@link InterProcessSemaphoreV2} ({@code locks/} mutex
 *     serialising takers, {@code leases/} nodes); each acquire takes one more lease.</li>
 * <li>multi-lock, n members: {@link InterProcessMultiLock} over n {@link InterProcessMutex}
 *     members {@code <path>/m0}, {@code m1}... (the subclass above, to report the first
 *     member's node), taken in that order, all or none.</li>
 * <li>read/write: {@link InterProcessReadWriteLock}'s WriteLock and ReadLock, built
 *     exactly as its public (client, path, lockData) constructor builds them, as
 *     subclasses exposing the protected {@code getLockPath()}.</li>
 * </ul>
 *
 * <p>The held node ({@code granted.node}) is Curator's own record of the node this
 * thread's lock holds ({@code getLockPath()}), or the lease's node name for the
 * semaphore. {@code status.nodes} is independent of Curator's bookkeeping: the
 * children of the lock path whose ephemeralOwner is this contender's session id.
 */
public final class CuratorContender {
    private final String id;
    private final String lockPath;
    private final String kind;
    private final CuratorFramework client;
    private final ExecutorService thread;
    private final String setupProblem;
    private final LockHandles locks;

    private volatile boolean crashed;
    private volatile boolean closed;

    /**
     * Sets up (but does not connect) a contender.
     *
     * @param kind "mutex" or "read-write"
     * @param maxLeases leases of a mutex (ignored for read-write)
     * @param lockDataHex node data as lower-case hex, or null/"" with hasData=false for Curator's default
     */
    public CuratorContender(String id, String connect, String lockPath, String kind, int maxLeases,
            boolean hasData, String lockDataHex, int sessionTimeoutMs) {
        this.id = id;
        this.lockPath = lockPath;
        this.kind = kind;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "curator-contender-" + id);
            t.setDaemon(true);
            return t;
        });
        // Nothing here throws: a bad setup is reported by open() as an error reply
        // (an exception crossing into j4rs is only seen as a stack trace).
        String problem = null;
        byte[] data = null;
        CuratorFramework built = null;
        try {
            if (!kind.equals("mutex") && !kind.equals("read-write") && !kind.equals("semaphore")
                    && !kind.equals("multi-lock")) {
                problem = "unknown lock kind: " + kind;
            } else if (!kind.equals("read-write") && maxLeases < 1) {
                problem = "max_leases must be at least 1, got " + maxLeases;
            } else if (hasData && kind.equals("mutex") && maxLeases > 1) {
                problem = "Curator's InterProcessSemaphore (the mutex layout with max_leases > 1)"
                        + " cannot store lock data";
            } else {
                data = hasData ? unhex(lockDataHex) : null;
                int connectionTimeoutMs = Math.max(1000, Math.min(sessionTimeoutMs, 15000));
                built = CuratorFrameworkFactory.builder()
                        .connectString(connect)
                        .sessionTimeoutMs(sessionTimeoutMs)
                        .connectionTimeoutMs(connectionTimeoutMs)
                        .retryPolicy(new RetryNTimes(3, 100))
                        .build();
            }
        } catch (RuntimeException e) {
            problem = describe(e);
        }
        this.setupProblem = problem;
        this.locks = new LockHandles(built, lockPath, kind, maxLeases, data, () -> crashed);
        this.client = built;
    }

    /** Starts the client and waits for the first connection. Returns a reply. */
    public String open(long connectWaitMillis) {
        if (setupProblem != null) {
            closed = true;
            thread.shutdownNow();
            return error("other", setupProblem);
        }
        String reply = run(() -> {
            client.getConnectionStateListenable().addListener((c, state) -> {
                if (state == org.apache.curator.framework.state.ConnectionState.LOST) {
                    locks.connectionLost = true;
                }
            });
            client.start();
            if (!client.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, connectWaitMillis),
                    TimeUnit.MILLISECONDS)) {
                throw new Failure("session-lost", "could not connect to ZooKeeper within "
                        + connectWaitMillis + " ms");
            }
            locks.create();
            return ok();
        });
        if (!reply.equals(ok())) {
            // Do not leave a client retrying in the background.
            closed = true;
            client.close();
            thread.shutdownNow();
        }
        return reply;
    }

    /** The ZooKeeper session id (hex), for logs. */
    public String sessionId() {
        try {
            return Long.toHexString(client.getZookeeperClient().getZooKeeper().getSessionId());
        } catch (Exception e) {
            return "?";
        }
    }

    /**
     * The current session's id and password as {@code "0x<id hex> <password hex>"}, or
     * {@code ""} when there is no connected handle. The harness expires the session with
     * them (a second connection takes the session over and closes it) while Curator keeps
     * running, as a real session expiry does. Callable from any thread.
     */
    public String sessionCredentials() {
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            StringBuilder hex = new StringBuilder();
            for (byte b : zk.getSessionPasswd()) {
                hex.append(String.format("%02x", b & 0xff));
            }
            return "0x" + Long.toHexString(zk.getSessionId()) + " " + hex;
        } catch (Exception e) {
            return "";
        }
    }

    // ---------------------------------------------------------------- commands

    /** Acquire a side; timeoutMillis &lt; 0 waits forever. */
    public String acquire(String sideName, long timeoutMillis) {
        return run(() -> {
            Side side = locks.checkSide(Side.parse(sideName));
            return locks.acquire(side, timeoutMillis);
        });
    }

    /** Release a side once. */
    public String release(String sideName) {
        return run(() -> {
            Side side = locks.checkSide(Side.parse(sideName));
            locks.releaseOnce(side);
            return ok();
        });
    }

    /** Participant nodes, full paths, in lock order. */
    public String participants() {
        return run(() -> {
            return locks.participants();
        });
    }

    /**
     * Registers a revocation listener on a side. Curator only watches a lock node for
     * revocation when it is acquired after makeRevocable was called (it sets the watch in
     * the acquire loop); a node held before this command is not watched.
     */
    public String makeRevocable(String sideName) {
        return run(() -> {
            Side side = locks.checkSide(Side.parse(sideName));
            if (locks.semaphore != null || kind.equals("semaphore") || locks.multiLock != null) {
                throw new Failure("unsupported", "Curator's semaphores and multi-locks are not revocable");
            }
            locks.lockOf(side).makeRevocable(lock -> {
                // Called on a Curator thread: hand the release to the owning thread.
                try {
                    thread.submit(() -> locks.revokedRelease(side));
                } catch (RejectedExecutionException ignored) {
                    // crashed or closed
                }
            });
            return ok();
        });
    }

    /** Writes __REVOKE__ into a node, Curator's Revoker.attemptRevoke. */
    public String revoke(String node) {
        return run(() -> {
            Revoker.attemptRevoke(client, node);
            return ok();
        });
    }

    /**
     * Reads a node's data through this contender's session (not a harness command; for
     * checks). Reply: {"reply":"participants","nodes":["<lower-case hex>"]}, or
     * {"reply":"participants","nodes":[]} when the node does not exist.
     */
    public String nodeData(String path) {
        return run(() -> {
            List<String> out = new ArrayList<>();
            try {
                byte[] data = client.getData().forPath(path);
                StringBuilder hex = new StringBuilder();
                for (byte b : data == null ? new byte[0] : data) {
                    hex.append(String.format("%02x", b & 0xff));
                }
                out.add(hex.toString());
            } catch (KeeperException.NoNodeException e) {
                // empty list
            }
            return "{\"reply\":\"participants\",\"nodes\":" + strs(out) + "}";
        });
    }

    /** Lost-update workload: the value read last from the counter, or -1. */
    private long remembered = -1;

    /** Reads the counter (a decimal number) and remembers it. */
    public String readValue(String counter) {
        return run(() -> {
            byte[] data = client.getData().forPath(counter);
            remembered = Long.parseLong(new String(data, java.nio.charset.StandardCharsets.UTF_8).trim());
            return "{\"reply\":\"value\",\"value\":" + remembered + "}";
        });
    }

    /**
     * Writes the value read last + 1 into the counter: "plain" (setData) or
     * "guarded" (one transaction with a check of this side's lock node, what
     * CURATOR-689 proposes and Curator users can write themselves). Curator
     * has no fencing token.
     */
    public String writeValue(String counter, String sideName, String protection) {
        return run(() -> {
            Side side = locks.checkSide(Side.parse(sideName));
            if (remembered < 0) {
                return error("not-held", "write-value without a read-value");
            }
            byte[] value = Long.toString(remembered + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            remembered = -1;
            try {
                if (protection.equals("plain")) {
                    client.setData().forPath(counter, value);
                } else if (protection.equals("guarded") && locks.semaphore == null) {
                    String node = locks.heldNodeOf(side);
                    if (node == null) {
                        return error("rejected", "holds no " + sideName + " lock node to check");
                    }
                    client.transaction().forOperations(
                            client.transactionOp().check().forPath(node),
                            client.transactionOp().setData().forPath(counter, value));
                } else {
                    return error("unsupported", protection + " writes are not offered by this Curator contender");
                }
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException
                    | KeeperException.SessionExpiredException e) {
                return error("rejected", describe(e));
            } catch (KeeperException.ConnectionLossException e) {
                return error("unknown", describe(e));
            }
            return ok();
        });
    }

    /** What this contender believes it holds, and the nodes its session owns. */
    public String status() {
        return run(() -> {
            return locks.status();
        });
    }

    /** Releases everything held, then closes the session cleanly. */
    public String close() {
        if (crashed || closed) {
            closed = true;
            thread.shutdownNow();
            return ok();
        }
        String reply = run(() -> {
            Exception failure = null;
            for (Side side : Side.values()) {
                while (locks.held.getOrDefault(side, 0) > 0) {
                    try {
                        locks.releaseOnce(side);
                    } catch (Exception e) {
                        if (failure == null) {
                            failure = e;
                        }
                        locks.held.put(side, 0);
                    }
                }
            }
            closed = true;
            client.close();
            if (failure != null) {
                throw failure;
            }
            return ok();
        });
        closed = true;
        thread.shutdown();
        return reply;
    }

    /**
     * Ends the session without releasing anything; callable from any thread, also while
     * the contender thread is blocked in acquire. CuratorFramework.close() closes the
     * ZooKeeper handle (the server ends the session at once and deletes its ephemeral
     * nodes) and stops Curator from reconnecting with a new session; then the contender
     * thread is interrupted so a blocked acquire returns (with session-lost) at once.
     */
    public void crash() {
        end(false);
    }

    /**
     * Like {@link #crash()}, but the way a killed process goes: the connection is dropped
     * without closing the session, so the server keeps the session and its ephemeral
     * nodes until the session timeout expires them.
     *
     * <p>ZooKeeper has no public call for this. {@code Testable.injectSessionExpiration()}
     * comes close but races with Curator: it queues the Expired event before it marks
     * the handle closed, and Curator's handler may close the old handle (sending
     * closeSession) in between. So the handle is first marked CLOSED (reflection on
     * ZooKeeper's client internals: {@code ZooKeeper.cnxn}, {@code ClientCnxn.state},
     * its send thread's socket {@code onClosing()}), after which nothing sends
     * closeSession any more and the send thread drops the socket; then Curator is closed
     * so it cannot reconnect.
     */
    public void kill() {
        end(true);
    }

    private void end(boolean dropConnectionOnly) {
        if (closed || crashed) {
            return;
        }
        crashed = true;
        Exception dropFailure = null;
        try {
            if (dropConnectionOnly) {
                try {
                    Sessions.dropConnection(client.getZookeeperClient().getZooKeeper());
                } catch (Exception e) {
                    dropFailure = e;
                }
            }
            client.close();
            if (dropFailure != null) {
                // The session was closed instead (crash semantics): say so loudly.
                throw new IllegalStateException("cannot drop the ZooKeeper connection, closed the session instead: "
                        + describe(dropFailure), dropFailure);
            }
        } finally {
            // Interrupts the running task; tasks that never started are cancelled so
            // that callers waiting for them return too.
            for (Runnable queued : thread.shutdownNow()) {
                if (queued instanceof Future) {
                    ((Future<?>) queued).cancel(false);
                }
            }
        }
    }


    // ------------------------------------------------------------ static info

    /** Version of the curator-framework jar actually loaded. */
    public static String curatorVersion() {
        return CuratorInfo.version();
    }

    /** Where curator-framework was loaded from. */
    public static String curatorLocation() {
        return CuratorInfo.location();
    }

    // --------------------------------------------------------------- internals


    private String run(Callable<String> body) {
        if (crashed) {
            return error("session-lost", "contender crashed");
        }
        if (closed) {
            return error("other", "contender closed");
        }
        Future<String> f;
        try {
            f = thread.submit(body);
        } catch (RejectedExecutionException e) {
            return crashed ? error("session-lost", "contender crashed") : error("other", "contender closed");
        }
        try {
            return f.get();
        } catch (ExecutionException e) {
            return classify(e.getCause());
        } catch (java.util.concurrent.CancellationException e) {
            return error("session-lost", "contender crashed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error("other", "interrupted while waiting for the contender thread");
        }
    }

    private String classify(Throwable t) {
        if (t instanceof Failure) {
            return error(((Failure) t).kind, t.getMessage());
        }
        String message = describe(t);
        if (crashed) {
            return error("session-lost", "contender crashed: " + message);
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IllegalMonitorStateException) {
                return error("not-held", message);
            }
            if (c instanceof KeeperException.NoAuthException) {
                return error("no-auth", message);
            }
            if (c instanceof KeeperException.SessionExpiredException
                    || c instanceof KeeperException.SessionMovedException
                    || c instanceof KeeperException.ConnectionLossException
                    || c instanceof CuratorConnectionLossException) {
                return error("session-lost", message);
            }
            if (c instanceof IOException && String.valueOf(c.getMessage()).startsWith("Lost connection")) {
                return error("session-lost", message);
            }
            if (c instanceof IllegalStateException
                    && String.valueOf(c.getMessage()).contains("Expected state [STARTED]")) {
                return error("session-lost", message);
            }
        }
        return error("other", message);
    }

    @Override
    public String toString() {
        return "CuratorContender[" + id + " " + kind + " " + lockPath + "]";
    }
}
