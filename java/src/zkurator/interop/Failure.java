package zkurator.interop;

/** A failure that already knows its wire kind. */
final class Failure extends Exception {
    final String kind;

    Failure(String kind, String message) {
        super(message);
        this.kind = kind;
    }
}
