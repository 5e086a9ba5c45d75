package main

// Reads of go-zk's unexported state, for this test adapter only.
//
// go-zk v1.0.4 exports a Conn's session id (SessionID) but neither its
// session password (Conn.passwd) nor its negotiated session timeout
// (Conn.sessionTimeoutMs), and a Lock's node path (Lock.lockPath) not at
// all. The harness needs all of them (the credentials to expire the session
// from a second connection, the node to check the lock order). reflect may
// read unexported fields (Bytes, Int, String: only Interface and Set refuse),
// so no unsafe is needed; nothing is ever written. A go-zk release that
// renames these fields makes the readers report "unknown" (and hello then
// declares session_credentials false) instead of panicking.

import (
	"reflect"

	"github.com/go-zookeeper/zk"
)

// field returns the named field of the struct *p points to, if it has the
// wanted kind.
func field(p interface{}, name string, kind reflect.Kind) (reflect.Value, bool) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Ptr || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != kind {
		return reflect.Value{}, false
	}
	return f, true
}

// canReadPassword says whether this go-zk's Conn has the passwd []byte field.
func canReadPassword() bool {
	t := reflect.TypeOf(zk.Conn{})
	f, ok := t.FieldByName("passwd")
	return ok && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8
}

// sessionPassword copies the Conn's current session password. Call it on
// go-zk's connection goroutine (an event callback), which is the only writer.
func sessionPassword(c *zk.Conn) ([]byte, bool) {
	f, ok := field(c, "passwd", reflect.Slice)
	if !ok || f.Type().Elem().Kind() != reflect.Uint8 {
		return nil, false
	}
	return append([]byte(nil), f.Bytes()...), true
}

// sessionTimeoutMs is the negotiated timeout (go-zk stores the server's
// answer there on every new session).
func sessionTimeoutMs(c *zk.Conn) (int64, bool) {
	f, ok := field(c, "sessionTimeoutMs", reflect.Int32)
	if !ok {
		return 0, false
	}
	return f.Int(), true
}

// lockNode is the full path of the node a Lock holds, "" when not held
// (LockWithData sets lockPath last, after the lock is granted; Unlock clears
// it after a successful delete).
func lockNode(l *zk.Lock) string {
	f, ok := field(l, "lockPath", reflect.String)
	if !ok {
		return ""
	}
	return f.String()
}
