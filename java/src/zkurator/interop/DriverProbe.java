package zkurator.interop;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.LockInternals;
import org.apache.curator.framework.recipes.locks.LockInternalsDriver;
import org.apache.curator.framework.recipes.locks.PredicateResults;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;

/**
 * Asks Curator's real lock drivers how a list of children sorts, whether a node
 * holds the lock and which node it watches otherwise. Used by the harness's
 * differential predicate tests ({@code harness/src/differential.rs}); no
 * ZooKeeper server is involved.
 *
 * <p>One call of {@link #run(String)} answers a whole batch of cases:
 * <pre>
 * in:  {"cases":[{"question":"mutex","max_leases":1,"owns_write":false,
 *                 "ours":"_c_...-lock-0000000001","children":["...", ...]}, ...]}
 * out: {"answers":[{"sorted":[...],"decision":"holds"},
 *                  {"sorted":[...],"decision":"watch","node":"..."},
 *                  {"sorted":[...],"decision":"missing"},
 *                  {"sorted":[...],"decision":"error","message":"..."}, ...]}
 * or:  {"error":"..."} when the batch cannot be read at all.
 * </pre>
 * {@code question} is {@code mutex} (with {@code max_leases}), {@code write} or
 * {@code read} (with {@code owns_write}). The output is pure ASCII (everything
 * else is written as a JSON {@code \\u} escape), so no text encoding can change
 * it on its way through JNI.
 *
 * <h2>The call paths, exactly as Curator 5.4.0 runs them</h2>
 * <ul>
 * <li>Sort: the static {@code LockInternals.getSortedChildren(lockName, sorter, children)},
 *   which {@code LockInternals.getSortedChildren()} calls after listing the children.</li>
 * <li>Mutex and lease lock ({@code InterProcessMutex}, {@code InterProcessSemaphore}):
 *   a {@code StandardLockInternalsDriver} (lock name {@code lock-}) and its
 *   {@code getsTheLock(client, sorted, ourName, maxLeases)}.</li>
 * <li>Read/write lock: the drivers of a real {@code InterProcessReadWriteLock}. In
 *   5.4.0 the read predicate is not a private method {@code readLockPredicate} (that
 *   is 5.5+): it is inlined in the anonymous driver {@code ReadLock$1.getsTheLock}.
 *   The probe therefore takes the {@code LockInternalsDriver} instance that the
 *   lock's own {@code LockInternals} uses (private fields {@code InterProcessMutex.internals}
 *   and {@code LockInternals.driver}, read by reflection) and calls its public
 *   {@code getsTheLock} with the {@code maxLeases} of that same {@code LockInternals}
 *   ({@code Integer.MAX_VALUE} for the read side, 1 for the write side): the very
 *   call {@code LockInternals.internalLockLoop} makes, and the same sorter.</li>
 * <li>"Owns the write lock" (a downgrade): the read predicate asks
 *   {@code writeLock.isOwnedByCurrentThread()}. For a case with {@code owns_write}
 *   the probe puts a {@code LockData} for the calling thread into the write lock's
 *   private {@code threadData} map (reflection), checks that
 *   {@code isOwnedByCurrentThread()} now answers true, asks the predicate, and removes
 *   the entry again.</li>
 * <li>The client argument: none of these predicates reads it (checked in the 5.4.0
 *   bytecode), so {@code null} is passed. The read/write lock itself needs a
 *   {@code CuratorFramework} to be constructed: a client that is never started, so it
 *   never connects anywhere.</li>
 * <li>A missing own node: the drivers throw {@code KeeperException.NoNodeException}
 *   ({@code validateOurIndex}); reported as {@code missing}.</li>
 * </ul>
 */
public final class DriverProbe {
    private static final String MUTEX_NAME = "lock-";
    private static final String READ_NAME = "__READ__";
    private static final String WRITE_NAME = "__WRIT__";
    private static final String PROBE_PATH = "/zkurator-driver-probe";

    private static final StandardLockInternalsDriver STANDARD = new StandardLockInternalsDriver();

    /** The read/write lock's parts, built on first use. */
    private static ReadWriteParts readWrite;

    private DriverProbe() {
    }

    /** The drivers and owner bookkeeping of one real InterProcessReadWriteLock. */
    private static final class ReadWriteParts {
        final CuratorFramework client;
        final InterProcessMutex writeLock;
        final LockInternalsDriver readDriver;
        final LockInternalsDriver writeDriver;
        final int readMaxLeases;
        final int writeMaxLeases;
        final ConcurrentMap<Thread, Object> writeThreadData;
        final Constructor<?> lockData;

        @SuppressWarnings("unchecked")
        ReadWriteParts() throws Exception {
            client = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));
            InterProcessReadWriteLock lock = new InterProcessReadWriteLock(client, PROBE_PATH);
            InterProcessMutex readLock = lock.readLock();
            writeLock = lock.writeLock();

            Field internals = InterProcessMutex.class.getDeclaredField("internals");
            internals.setAccessible(true);
            Field driver = LockInternals.class.getDeclaredField("driver");
            driver.setAccessible(true);
            Field maxLeases = LockInternals.class.getDeclaredField("maxLeases");
            maxLeases.setAccessible(true);
            Object readInternals = internals.get(readLock);
            Object writeInternals = internals.get(writeLock);
            readDriver = (LockInternalsDriver) driver.get(readInternals);
            writeDriver = (LockInternalsDriver) driver.get(writeInternals);
            readMaxLeases = maxLeases.getInt(readInternals);
            writeMaxLeases = maxLeases.getInt(writeInternals);

            Field threadData = InterProcessMutex.class.getDeclaredField("threadData");
            threadData.setAccessible(true);
            writeThreadData = (ConcurrentMap<Thread, Object>) threadData.get(writeLock);
            Class<?> lockDataClass =
                Class.forName("org.apache.curator.framework.recipes.locks.InterProcessMutex$LockData");
            lockData = lockDataClass.getDeclaredConstructor(Thread.class, String.class);
            lockData.setAccessible(true);
        }
    }

    private static synchronized ReadWriteParts readWrite() throws Exception {
        if (readWrite == null) {
            readWrite = new ReadWriteParts();
        }
        return readWrite;
    }

    /**
     * Answers a batch of cases (see the class documentation for the JSON shapes).
     * Never throws: a batch that cannot be read gives {@code {"error":...}}, a case
     * whose predicate fails unexpectedly gives a {@code decision} of {@code error}.
     */
    public static String run(String batchJson) {
        List<Object> cases;
        try {
            Object batch = new Json(batchJson).parse();
            cases = list(map(batch, "batch").get("cases"), "cases");
        } catch (RuntimeException e) {
            return "{\"error\":" + str("bad batch: " + describe(e)) + "}";
        }
        StringBuilder out = new StringBuilder("{\"answers\":[");
        for (int i = 0; i < cases.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(answer(cases.get(i)));
        }
        return out.append("]}").toString();
    }

    /** Where Curator's recipes were loaded from and which classes the probe calls. */
    public static String describe() {
        return "StandardLockInternalsDriver from "
            + StandardLockInternalsDriver.class.getProtectionDomain().getCodeSource().getLocation();
    }

    private static String answer(Object raw) {
        List<String> sorted = new ArrayList<>();
        try {
            Map<String, Object> c = map(raw, "case");
            String question = string(c.get("question"), "question");
            String ours = string(c.get("ours"), "ours");
            List<String> children = new ArrayList<>();
            for (Object child : list(c.get("children"), "children")) {
                children.add(string(child, "child"));
            }
            PredicateResults result;
            switch (question) {
                case "mutex": {
                    int maxLeases = number(c.get("max_leases"), "max_leases");
                    sorted = LockInternals.getSortedChildren(MUTEX_NAME, STANDARD, children);
                    result = STANDARD.getsTheLock(null, sorted, ours, maxLeases);
                    break;
                }
                case "write": {
                    ReadWriteParts rw = readWrite();
                    sorted = LockInternals.getSortedChildren(WRITE_NAME, rw.writeDriver, children);
                    result = rw.writeDriver.getsTheLock(null, sorted, ours, rw.writeMaxLeases);
                    break;
                }
                case "read": {
                    ReadWriteParts rw = readWrite();
                    boolean ownsWrite = Boolean.TRUE.equals(c.get("owns_write"));
                    sorted = LockInternals.getSortedChildren(READ_NAME, rw.readDriver, children);
                    result = readPredicate(rw, sorted, ours, ownsWrite);
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown question " + question);
            }
            if (result.getsTheLock()) {
                return "{\"sorted\":" + strs(sorted) + ",\"decision\":\"holds\"}";
            }
            return "{\"sorted\":" + strs(sorted) + ",\"decision\":\"watch\",\"node\":"
                + str(String.valueOf(result.getPathToWatch())) + "}";
        } catch (KeeperException.NoNodeException e) {
            return "{\"sorted\":" + strs(sorted) + ",\"decision\":\"missing\"}";
        } catch (Exception e) {
            return "{\"sorted\":" + strs(sorted) + ",\"decision\":\"error\",\"message\":" + str(describe(e)) + "}";
        }
    }

    private static PredicateResults readPredicate(ReadWriteParts rw, List<String> sorted, String ours,
            boolean ownsWrite) throws Exception {
        Thread me = Thread.currentThread();
        if (!ownsWrite) {
            if (rw.writeLock.isOwnedByCurrentThread()) {
                throw new IllegalStateException("the probe's write lock is owned by this thread");
            }
            return rw.readDriver.getsTheLock(null, sorted, ours, rw.readMaxLeases);
        }
        rw.writeThreadData.put(me, rw.lockData.newInstance(me, PROBE_PATH + "/" + ours));
        try {
            if (!rw.writeLock.isOwnedByCurrentThread()) {
                throw new IllegalStateException("could not make the probe's write lock owned by this thread");
            }
            return rw.readDriver.getsTheLock(null, sorted, ours, rw.readMaxLeases);
        } finally {
            rw.writeThreadData.remove(me);
        }
    }

    // ------------------------------------------------------------------ JSON

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException(what + " is not an object");
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String what) {
        if (!(value instanceof List)) {
            throw new IllegalArgumentException(what + " is not an array");
        }
        return (List<Object>) value;
    }

    private static String string(Object value, String what) {
        if (!(value instanceof String)) {
            throw new IllegalArgumentException(what + " is not a string");
        }
        return (String) value;
    }

    private static int number(Object value, String what) {
        if (!(value instanceof Long)) {
            throw new IllegalArgumentException(what + " is not an integer");
        }
        long n = (Long) value;
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is out of range");
        }
        return (int) n;
    }

    /** A minimal JSON reader: objects, arrays, strings, integers, booleans, null. */
    private static final class Json {
        private final String text;
        private int pos;

        Json(String text) {
            this.text = text;
        }

        Object parse() {
            Object value = value();
            space();
            if (pos != text.length()) {
                throw error("trailing text");
            }
            return value;
        }

        private Object value() {
            space();
            if (pos >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(pos);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return integer();
                    }
                    throw error("unexpected " + c);
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> out = new LinkedHashMap<>();
            pos++;
            space();
            if (peek() == '}') {
                pos++;
                return out;
            }
            while (true) {
                space();
                if (peek() != '"') {
                    throw error("expected a key");
                }
                String key = string();
                space();
                expect(':');
                out.put(key, value());
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return out;
                }
            }
        }

        private List<Object> array() {
            List<Object> out = new ArrayList<>();
            pos++;
            space();
            if (peek() == ']') {
                pos++;
                return out;
            }
            while (true) {
                out.add(value());
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return out;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (pos >= text.length()) {
                    throw error("unterminated escape");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '"':
                    case '\\':
                    case '/':
                        sb.append(e);
                        break;
                    case 'b':
                        sb.append('\b');
                        break;
                    case 'f':
                        sb.append('\f');
                        break;
                    case 'n':
                        sb.append('\n');
                        break;
                    case 'r':
                        sb.append('\r');
                        break;
                    case 't':
                        sb.append('\t');
                        break;
                    case 'u':
                        if (pos + 4 > text.length()) {
                            throw error("short \\u escape");
                        }
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                        break;
                    default:
                        throw error("bad escape \\" + e);
                }
            }
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                pos++;
            }
            return Long.parseLong(text.substring(start, pos));
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) {
                throw error("expected " + word);
            }
            pos += word.length();
            return value;
        }

        private void space() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected " + c);
            }
            pos++;
        }

        private IllegalArgumentException error(String message) {
            return new IllegalArgumentException(message + " at offset " + pos);
        }
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getName() + (m == null ? "" : ": " + m);
    }

    private static String strs(List<String> values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(str(values.get(i)));
        }
        return sb.append(']').toString();
    }

    /** A JSON string literal in pure ASCII. */
    private static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                sb.append("\\\"");
            } else if (c == '\\') {
                sb.append("\\\\");
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
