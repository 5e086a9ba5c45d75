package zkurator.interop;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import org.apache.curator.CuratorConnectionLossException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphore;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

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
    private enum Side {
        MUTEX("mutex"), READ("read"), WRITE("write");

        final String wire;

        Side(String wire) {
            this.wire = wire;
        }

        static Side parse(String s) {
            for (Side side : values()) {
                if (side.wire.equals(s)) {
                    return side;
                }
            }
            throw new IllegalArgumentException("unknown side: " + s);
        }
    }

    /** InterProcessMutex exposing the node it holds and carrying optional node data. */
    private static final class Mutex extends InterProcessMutex {
        private final byte[] data;

        Mutex(CuratorFramework client, String path, byte[] data) {
            super(client, path);
            this.data = data;
        }

        @Override
        protected byte[] getLockNodeBytes() {
            return data;
        }

        String heldNode() {
            return getLockPath();
        }
    }

    /**
     * The node a read/write side holds. Curator 5.0 to 5.2.0 have no public
     * ReadLock/WriteLock classes to subclass, so the protected getLockPath() of
     * the side's InterProcessMutex is read by reflection (every 5.x has it).
     */
    private static String heldNode(InterProcessMutex side) {
        try {
            java.lang.reflect.Method getLockPath = InterProcessMutex.class.getDeclaredMethod("getLockPath");
            getLockPath.setAccessible(true);
            return (String) getLockPath.invoke(side);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("InterProcessMutex.getLockPath: " + e, e);
        }
    }

    /** A failure that already knows its wire kind. */
    private static final class Failure extends Exception {
        final String kind;

        Failure(String kind, String message) {
            super(message);
            this.kind = kind;
        }
    }

    private static final String READ_NAME = "__READ__";
    private static final String WRITE_NAME = "__WRIT__";
    private static final String MUTEX_NAME = "lock-";

    private final String id;
    private final String lockPath;
    private final String kind;
    private final int maxLeases;
    private final byte[] lockData;
    private final CuratorFramework client;
    private final ExecutorService thread;
    private final String setupProblem;

    // Touched only on the contender thread.
    private Mutex mutex;
    private InterProcessSemaphore semaphore;
    private InterProcessSemaphoreV2 semaphoreV2;
    private InterProcessSemaphoreMutex semaphoreMutex;
    private InterProcessMultiLock multiLock;
    private final List<Mutex> members = new ArrayList<>();
    private final Deque<Lease> leases = new ArrayDeque<>();
    private InterProcessMutex writeLock;
    private InterProcessMutex readLock;
    private final Map<Side, Integer> held = new EnumMap<>(Side.class);
    private final List<Side> revoked = new ArrayList<>();

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
        this.maxLeases = maxLeases;
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
        this.lockData = data;
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
            client.start();
            if (!client.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, connectWaitMillis),
                    TimeUnit.MILLISECONDS)) {
                throw new Failure("session-lost", "could not connect to ZooKeeper within "
                        + connectWaitMillis + " ms");
            }
            if (kind.equals("multi-lock")) {
                List<InterProcessLock> locks = new ArrayList<>();
                for (int i = 0; i < maxLeases; i++) {
                    Mutex member = new Mutex(client, ZKPaths.makePath(lockPath, "m" + i), lockData);
                    members.add(member);
                    locks.add(member);
                }
                multiLock = new InterProcessMultiLock(locks);
            } else if (kind.equals("semaphore")) {
                if (maxLeases == 1) {
                    semaphoreMutex = new InterProcessSemaphoreMutex(client, lockPath);
                } else {
                    semaphoreV2 = new InterProcessSemaphoreV2(client, lockPath, maxLeases);
                    if (lockData != null) {
                        semaphoreV2.setNodeData(lockData);
                    }
                }
            } else if (kind.equals("mutex")) {
                if (maxLeases == 1) {
                    mutex = new Mutex(client, lockPath, lockData);
                } else {
                    semaphore = new InterProcessSemaphore(client, lockPath, maxLeases);
                }
            } else {
                InterProcessReadWriteLock rw = new InterProcessReadWriteLock(client, lockPath, lockData);
                writeLock = rw.writeLock();
                readLock = rw.readLock();
            }
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
            Side side = checkSide(Side.parse(sideName));
            String node;
            if (multiLock != null) {
                if (timeoutMillis < 0) {
                    multiLock.acquire();
                } else if (!multiLock.acquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    throw timeoutOrCrash(timeoutMillis);
                }
                node = members.get(0).heldNode();
            } else if (semaphoreV2 != null || semaphoreMutex != null) {
                node = acquireSemaphore(timeoutMillis);
            } else if (semaphore != null) {
                Lease lease;
                if (timeoutMillis < 0) {
                    lease = semaphore.acquire();
                } else {
                    lease = semaphore.acquire(timeoutMillis, TimeUnit.MILLISECONDS);
                    if (lease == null) {
                        throw timeoutOrCrash(timeoutMillis);
                    }
                }
                if (lease == null || lease.getNodeName() == null) {
                    throw lostOrOther("InterProcessSemaphore.acquire returned no lease");
                }
                leases.push(lease);
                node = ZKPaths.makePath(lockPath, lease.getNodeName());
            } else {
                InterProcessMutex lock = lockOf(side);
                if (timeoutMillis < 0) {
                    lock.acquire();
                } else if (!lock.acquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    throw timeoutOrCrash(timeoutMillis);
                }
                node = heldNodeOf(side);
            }
            held.merge(side, 1, Integer::sum);
            return "{\"reply\":\"granted\",\"node\":" + str(node) + "}";
        });
    }

    /** Release a side once. */
    public String release(String sideName) {
        return run(() -> {
            Side side = checkSide(Side.parse(sideName));
            releaseOnce(side);
            return ok();
        });
    }

    /** Participant nodes, full paths, in lock order. */
    public String participants() {
        return run(() -> {
            List<String> nodes = new ArrayList<>();
            if (multiLock != null) {
                // The first member's nodes: where every multi-lock contender queues.
                nodes.addAll(members.get(0).getParticipantNodes());
            } else if (kind.equals("semaphore")) {
                // Curator lists lease names unsorted; full paths in sequence order here.
                InterProcessSemaphoreV2 lister = semaphoreV2 != null ? semaphoreV2
                        : new InterProcessSemaphoreV2(client, lockPath, 1);
                for (String name : lister.getParticipantNodes()) {
                    nodes.add(ZKPaths.makePath(leasesPath(), name));
                }
                nodes.sort(Comparator.comparing(CuratorContender::rwSortKey));
            } else if (kind.equals("mutex")) {
                // InterProcessSemaphore has no participant listing; an InterProcessMutex on the
                // same path (creating nothing) lists the same lock- layout with Curator's sorter.
                InterProcessMutex lister = mutex != null ? mutex : new InterProcessMutex(client, lockPath);
                nodes.addAll(lister.getParticipantNodes());
            } else {
                // Curator filters each side's participants by its own lock name; merge both
                // and order them by the shared sequence suffix as Curator's read lock sorts.
                nodes.addAll(writeLock.getParticipantNodes());
                nodes.addAll(readLock.getParticipantNodes());
                nodes.sort(Comparator.comparing(CuratorContender::rwSortKey));
            }
            return "{\"reply\":\"participants\",\"nodes\":" + strs(nodes) + "}";
        });
    }

    /**
     * Registers a revocation listener on a side. Curator only watches a lock node for
     * revocation when it is acquired after makeRevocable was called (it sets the watch in
     * the acquire loop); a node held before this command is not watched.
     */
    public String makeRevocable(String sideName) {
        return run(() -> {
            Side side = checkSide(Side.parse(sideName));
            if (semaphore != null || kind.equals("semaphore") || multiLock != null) {
                throw new Failure("unsupported", "Curator's semaphores and multi-locks are not revocable");
            }
            lockOf(side).makeRevocable(lock -> {
                // Called on a Curator thread: hand the release to the owning thread.
                try {
                    thread.submit(() -> revokedRelease(side));
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
            Side side = checkSide(Side.parse(sideName));
            if (remembered < 0) {
                return error("not-held", "write-value without a read-value");
            }
            byte[] value = Long.toString(remembered + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            remembered = -1;
            try {
                if (protection.equals("plain")) {
                    client.setData().forPath(counter, value);
                } else if (protection.equals("guarded") && semaphore == null) {
                    String node = heldNodeOf(side);
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
            StringBuilder sb = new StringBuilder("{\"reply\":\"status\",\"held\":[");
            boolean first = true;
            for (Map.Entry<Side, Integer> e : held.entrySet()) {
                if (e.getValue() > 0) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    sb.append('[').append(str(e.getKey().wire)).append(',').append(e.getValue()).append(']');
                }
            }
            sb.append("],\"nodes\":").append(strs(ownedNodes()));
            sb.append(",\"revoked\":[");
            for (int i = 0; i < revoked.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(str(revoked.get(i).wire));
            }
            revoked.clear();
            sb.append("]}");
            return sb.toString();
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
                while (held.getOrDefault(side, 0) > 0) {
                    try {
                        releaseOnce(side);
                    } catch (Exception e) {
                        if (failure == null) {
                            failure = e;
                        }
                        held.put(side, 0);
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
                    dropConnection(client.getZookeeperClient().getZooKeeper());
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

    /** Marks a ZooKeeper handle closed and drops its socket, without a closeSession. */
    private static void dropConnection(ZooKeeper zk) throws Exception {
        Field cnxnField = ZooKeeper.class.getDeclaredField("cnxn");
        cnxnField.setAccessible(true);
        Object cnxn = cnxnField.get(zk);
        Class<?> cnxnClass = Class.forName("org.apache.zookeeper.ClientCnxn");
        Field state = cnxnClass.getDeclaredField("state");
        state.setAccessible(true);
        state.set(cnxn, ZooKeeper.States.CLOSED);
        Field sendThreadField = cnxnClass.getDeclaredField("sendThread");
        sendThreadField.setAccessible(true);
        Object sendThread = sendThreadField.get(cnxn);
        Method getSocket = sendThread.getClass().getDeclaredMethod("getClientCnxnSocket");
        getSocket.setAccessible(true);
        Object socket = getSocket.invoke(sendThread);
        Method onClosing = Class.forName("org.apache.zookeeper.ClientCnxnSocket").getDeclaredMethod("onClosing");
        onClosing.setAccessible(true);
        onClosing.invoke(socket);
    }

    // ------------------------------------------------------------ static info

    /** Version of the curator-framework jar actually loaded. */
    public static String curatorVersion() {
        Package p = CuratorFramework.class.getPackage();
        if (p != null && p.getImplementationVersion() != null) {
            return p.getImplementationVersion();
        }
        Path jar = null;
        try {
            URL location = CuratorFramework.class.getProtectionDomain().getCodeSource().getLocation();
            jar = Paths.get(location.toURI()).toRealPath();
            try (JarFile jf = new JarFile(jar.toFile())) {
                ZipEntry e = jf.getEntry("META-INF/maven/org.apache.curator/curator-framework/pom.properties");
                if (e != null) {
                    try (InputStream in = jf.getInputStream(e)) {
                        Properties props = new Properties();
                        props.load(in);
                        String v = props.getProperty("version");
                        if (v != null) {
                            return v;
                        }
                    }
                }
            }
        } catch (Exception ignored) {
            // fall through to the file name
        }
        if (jar != null) {
            String name = jar.getFileName().toString();
            if (name.startsWith("curator-framework-") && name.endsWith(".jar")) {
                return name.substring("curator-framework-".length(), name.length() - 4);
            }
        }
        return "unknown";
    }

    /** Where curator-framework was loaded from. */
    public static String curatorLocation() {
        try {
            return String.valueOf(CuratorFramework.class.getProtectionDomain().getCodeSource().getLocation());
        } catch (Exception e) {
            return "unknown";
        }
    }

    // --------------------------------------------------------------- internals

    private Side checkSide(Side side) throws Failure {
        boolean fits = kind.equals("read-write") ? side != Side.MUTEX : side == Side.MUTEX;
        if (!fits) {
            throw new Failure("other", "side " + side.wire + " does not exist on a " + kind + " lock");
        }
        return side;
    }

    private InterProcessMutex lockOf(Side side) {
        switch (side) {
            case READ:
                return readLock;
            case WRITE:
                return writeLock;
            default:
                return mutex;
        }
    }

    private String heldNodeOf(Side side) {
        switch (side) {
            case READ:
                return heldNode(readLock);
            case WRITE:
                return heldNode(writeLock);
            default:
                return mutex.heldNode();
        }
    }

    private void releaseOnce(Side side) throws Exception {
        if (multiLock != null) {
            // Curator releases every member (the last first) even if one fails.
            boolean wasHeld = multiLock.isAcquiredInThisProcess() && held.getOrDefault(side, 0) > 0;
            try {
                multiLock.release();
            } finally {
                if (wasHeld) {
                    held.merge(side, -1, Integer::sum);
                }
            }
            return;
        }
        if (semaphoreMutex != null) {
            if (held.getOrDefault(side, 0) <= 0) {
                throw new Failure("not-held", "the semaphore mutex " + lockPath + " is not held");
            }
            held.merge(side, -1, Integer::sum);
            semaphoreMutex.release();
            return;
        }
        if (semaphore != null || semaphoreV2 != null) {
            Lease lease = leases.peek();
            if (lease == null) {
                throw new Failure("not-held", "no lease of " + lockPath + " is held");
            }
            leases.pop();
            held.merge(side, -1, Integer::sum);
            lease.close();
            return;
        }
        // Curator decides whether we hold it (IllegalMonitorStateException otherwise).
        // It forgets the hold even when deleting the node fails, and so do we.
        boolean wasHeld = lockOf(side).isOwnedByCurrentThread();
        try {
            lockOf(side).release();
        } finally {
            if (wasHeld && held.getOrDefault(side, 0) > 0) {
                held.merge(side, -1, Integer::sum);
            }
        }
    }

    private Void revokedRelease(Side side) {
        if (held.getOrDefault(side, 0) <= 0) {
            return null;
        }
        while (held.getOrDefault(side, 0) > 0) {
            try {
                releaseOnce(side);
            } catch (Exception e) {
                held.put(side, 0);
            }
        }
        revoked.add(side);
        return null;
    }

    /** Where this contender's lock nodes live: the lock path, or a semaphore's leases/. */
    private String leasesPath() {
        return kind.equals("semaphore") ? ZKPaths.makePath(lockPath, "leases") : lockPath;
    }

    /**
     * One lease of a SemaphoreV2 or the SemaphoreMutex; returns its node (full path).
     * Curator's own acquire: the SemaphoreMutex is not reentrant, so a holder asking
     * again waits on itself, as with Curator.
     */
    private String acquireSemaphore(long timeoutMillis) throws Exception {
        Lease lease;
        if (semaphoreMutex != null) {
            if (timeoutMillis < 0) {
                semaphoreMutex.acquire();
            } else if (!semaphoreMutex.acquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                throw timeoutOrCrash(timeoutMillis);
            }
            java.lang.reflect.Field field = InterProcessSemaphoreMutex.class.getDeclaredField("lease");
            field.setAccessible(true);
            lease = (Lease) field.get(semaphoreMutex);
        } else {
            lease = timeoutMillis < 0 ? semaphoreV2.acquire()
                    : semaphoreV2.acquire(timeoutMillis, TimeUnit.MILLISECONDS);
            if (lease == null) {
                throw timeoutOrCrash(timeoutMillis);
            }
            leases.push(lease);
        }
        if (lease == null || lease.getNodeName() == null) {
            throw lostOrOther("Curator's semaphore returned no lease");
        }
        return ZKPaths.makePath(leasesPath(), lease.getNodeName());
    }

    private List<String> ownedNodes() throws Exception {
        if (multiLock != null) {
            List<String> all = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                all.addAll(ownedNodesIn(ZKPaths.makePath(this.lockPath, "m" + i)));
            }
            return all;
        }
        return ownedNodesIn(leasesPath());
    }

    private List<String> ownedNodesIn(String lockPath) throws Exception {
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        List<String> children;
        try {
            children = client.getChildren().forPath(lockPath);
        } catch (KeeperException.NoNodeException e) {
            return new ArrayList<>();
        }
        List<String> mine = new ArrayList<>();
        for (String child : children) {
            String full = ZKPaths.makePath(lockPath, child);
            Stat stat = client.checkExists().forPath(full);
            if (stat != null && stat.getEphemeralOwner() == session) {
                mine.add(full);
            }
        }
        mine.sort(Comparator.comparing(CuratorContender::rwSortKey));
        return mine;
    }

    /** Curator's sort key: the text after the lock name (whole name if none). */
    private static String rwSortKey(String path) {
        String name = ZKPaths.getNodeFromPath(path);
        name = StandardLockInternalsDriver.standardFixForSorting(name, READ_NAME);
        name = StandardLockInternalsDriver.standardFixForSorting(name, WRITE_NAME);
        name = StandardLockInternalsDriver.standardFixForSorting(name, MUTEX_NAME);
        name = StandardLockInternalsDriver.standardFixForSorting(name, "lease-");
        return name;
    }

    private Failure timeoutOrCrash(long timeoutMillis) {
        if (crashed) {
            return new Failure("session-lost", "contender crashed while acquiring");
        }
        if (client.getState() != org.apache.curator.framework.imps.CuratorFrameworkState.STARTED) {
            return new Failure("session-lost", "Curator client is " + client.getState());
        }
        return new Failure("timeout", "not acquired within " + timeoutMillis + " ms");
    }

    private Failure lostOrOther(String message) {
        if (crashed) {
            return new Failure("session-lost", "contender crashed: " + message);
        }
        return new Failure("other", message);
    }

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

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getName() + (m == null ? "" : ": " + m);
    }

    private static String ok() {
        return "{\"reply\":\"ok\"}";
    }

    private static String error(String kind, String message) {
        return "{\"reply\":\"error\",\"kind\":" + str(kind) + ",\"message\":" + str(message) + "}";
    }

    private static String strs(Collection<String> values) {
        StringBuilder sb = new StringBuilder("[");
        boolean first = true;
        for (String v : values) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(str(v));
        }
        return sb.append(']').toString();
    }

    private static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    private static byte[] unhex(String hex) {
        if (hex == null) {
            return new byte[0];
        }
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd-length hex lock data");
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    @Override
    public String toString() {
        return "CuratorContender[" + id + " " + kind + " " + lockPath + "]";
    }
}
