package zkurator.interop;

import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.ZooDefs;

/**
 * The bench's floor on Java's own ZooKeeper client: "acquire" creates an ephemeral
 * sequential node and lists the directory, "release" deletes the node, three sequential
 * round trips with no lock logic, the same cycle as the Rust floor on zookeeper-client.
 * The bench takes the faster of the two as the floor, so "vs floor" means the fastest raw
 * cycle any client here achieves.
 */
final class RawCycle implements InterProcessLock {
    private final ZooKeeper zk;
    private final String dir;
    private String node;

    RawCycle(CuratorFramework client, String dir) throws Exception {
        this.zk = client.getZookeeperClient().getZooKeeper();
        this.dir = dir;
        try {
            client.create().creatingParentsIfNeeded().forPath(dir);
        } catch (KeeperException.NodeExistsException exists) {
            // made by an earlier round
        }
    }

    @Override
    public void acquire() throws Exception {
        node = zk.create(dir + "/raw-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.getChildren(dir, false);
    }

    @Override
    public boolean acquire(long time, TimeUnit unit) throws Exception {
        acquire();
        return true;
    }

    @Override
    public void release() throws Exception {
        String held = node;
        node = null;
        if (held != null) {
            zk.delete(held, -1);
        }
    }

    @Override
    public boolean isAcquiredInThisProcess() {
        return node != null;
    }
}
