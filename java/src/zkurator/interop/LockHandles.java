package zkurator.interop;

import static zkurator.interop.Wire.ok;
import static zkurator.interop.Wire.str;
import static zkurator.interop.Wire.strs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphore;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The lock handles of one {@link CuratorContender}, one set per lock kind (see that
 * class for which Curator recipe serves which kind), and what the contender holds.
 * Touched only on the contender thread.
 */
final class LockHandles {
    private static final String READ_NAME = "__READ__";
    private static final String WRITE_NAME = "__WRIT__";
    private static final String MUTEX_NAME = "lock-";

    private final CuratorFramework client;
    private final String lockPath;
    private final String kind;
    private final int maxLeases;
    private final byte[] lockData;
    private final BooleanSupplier crashed;

    Mutex mutex;
    InterProcessSemaphore semaphore;
    InterProcessSemaphoreV2 semaphoreV2;
    InterProcessSemaphoreMutex semaphoreMutex;
    InterProcessMultiLock multiLock;
    final List<Mutex> members = new ArrayList<>();
    final Deque<Lease> leases = new ArrayDeque<>();
    InterProcessMutex writeLock;
    InterProcessMutex readLock;
    final Map<Side, Integer> held = new EnumMap<>(Side.class);
    /**
     * Set by the client's connection-state listener when it hears LOST, cleared
     * by the next grant: what Curator tells a holder about a lost session
     * (reported as {@code connection_lost} in status; the lock API itself keeps
     * saying it owns the lock).
     */
    volatile boolean connectionLost;
    final List<Side> revoked = new ArrayList<>();

    LockHandles(CuratorFramework client, String lockPath, String kind, int maxLeases, byte[] lockData,
            BooleanSupplier crashed) {
        this.client = client;
        this.lockPath = lockPath;
        this.kind = kind;
        this.maxLeases = maxLeases;
        this.lockData = lockData;
        this.crashed = crashed;
    }

    /** Builds the handles of the lock kind, once the client is connected. */
    void create() {
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
    }

    /** Acquires a side; timeoutMillis &lt; 0 waits forever. Returns the granted reply. */
    String acquire(Side side, long timeoutMillis) throws Exception {
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
        connectionLost = false;
        return "{\"reply\":\"granted\",\"node\":" + str(node) + "}";
    }

    /** Participant nodes, full paths, in lock order, as a reply. */
    String participants() throws Exception {
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
            nodes.sort(Comparator.comparing(LockHandles::rwSortKey));
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
            nodes.sort(Comparator.comparing(LockHandles::rwSortKey));
        }
        return "{\"reply\":\"participants\",\"nodes\":" + strs(nodes) + "}";
    }

    /** What this contender believes it holds, and the nodes its session owns, as a reply. */
    String status() throws Exception {
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
        sb.append(']');
        if (connectionLost) {
            sb.append(",\"connection_lost\":true");
        }
        sb.append('}');
        return sb.toString();
    }

    /**
     * The node a read/write side holds. Curator 5.0 to 5.2.0 have no public
     * ReadLock/WriteLock classes to subclass, so the protected getLockPath() of
     * the side's InterProcessMutex is read by reflection (every 5.x has it).
     */
    static String heldNode(InterProcessMutex side) {
        try {
            java.lang.reflect.Method getLockPath = InterProcessMutex.class.getDeclaredMethod("getLockPath");
            getLockPath.setAccessible(true);
            return (String) getLockPath.invoke(side);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("InterProcessMutex.getLockPath: " + e, e);
        }
    }

    Side checkSide(Side side) throws Failure {
        boolean fits = kind.equals("read-write") ? side != Side.MUTEX : side == Side.MUTEX;
        if (!fits) {
            throw new Failure("other", "side " + side.wire + " does not exist on a " + kind + " lock");
        }
        return side;
    }

    InterProcessMutex lockOf(Side side) {
        switch (side) {
            case READ:
                return readLock;
            case WRITE:
                return writeLock;
            default:
                return mutex;
        }
    }

    String heldNodeOf(Side side) {
        switch (side) {
            case READ:
                return heldNode(readLock);
            case WRITE:
                return heldNode(writeLock);
            default:
                return mutex.heldNode();
        }
    }

    void releaseOnce(Side side) throws Exception {
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

    Void revokedRelease(Side side) {
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
    String leasesPath() {
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

    List<String> ownedNodes() throws Exception {
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
        mine.sort(Comparator.comparing(LockHandles::rwSortKey));
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

    Failure timeoutOrCrash(long timeoutMillis) {
        if (crashed.getAsBoolean()) {
            return new Failure("session-lost", "contender crashed while acquiring");
        }
        if (client.getState() != org.apache.curator.framework.imps.CuratorFrameworkState.STARTED) {
            return new Failure("session-lost", "Curator client is " + client.getState());
        }
        return new Failure("timeout", "not acquired within " + timeoutMillis + " ms");
    }

    Failure lostOrOther(String message) {
        if (crashed.getAsBoolean()) {
            return new Failure("session-lost", "contender crashed: " + message);
        }
        return new Failure("other", message);
    }
}
