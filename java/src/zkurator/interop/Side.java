package zkurator.interop;

/** A lock side as the harness names it on the wire. */
enum Side {
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
