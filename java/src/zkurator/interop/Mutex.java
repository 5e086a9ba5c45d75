package zkurator.interop;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

/** InterProcessMutex exposing the node it holds and carrying optional node data. */
final class Mutex extends InterProcessMutex {
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
