package zkurator.interop;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

import org.apache.zookeeper.ZooKeeper;

/** Ending a ZooKeeper connection the way a killed process does (see {@link CuratorContender#kill()}). */
final class Sessions {
    private Sessions() {
    }

    /** Marks a ZooKeeper handle closed and drops its socket, without a closeSession. */
    static void dropConnection(ZooKeeper zk) throws Exception {
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
}
