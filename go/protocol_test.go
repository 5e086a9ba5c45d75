package main

// Tests of the pure parts (no ZooKeeper server needed): spec and command
// decoding, error kinds, reply shapes, and the reads of go-zk's fields.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

const goodSpec = `{"id": "a", "connect": "127.0.0.1:2181,127.0.0.2:2181", "lock_path": "/zkurator/m",
 "kind": {"mutex": {"max_leases": 1}}, "lock_data": [104, 105],
 "session_timeout": {"secs": 4, "nanos": 500000000}, "runtime": "go-zk"}`

func TestParseSpec(t *testing.T) {
	spec, setup, err := ParseSpec([]byte(goodSpec))
	if err != nil {
		t.Fatal(err)
	}
	if spec.ID != "a" || spec.Runtime != "go-zk" {
		t.Errorf("spec %+v", spec)
	}
	if strings.Join(setup.Servers, " ") != "127.0.0.1:2181 127.0.0.2:2181" {
		t.Errorf("servers %q", setup.Servers)
	}
	if string(setup.LockData) != "hi" || setup.LockPath != "/zkurator/m" {
		t.Errorf("setup %+v", setup)
	}
	if setup.SessionTimeout != 4500*time.Millisecond {
		t.Errorf("session timeout %v", setup.SessionTimeout)
	}
}

func TestParseSpecNullDataAndDefaults(t *testing.T) {
	line := strings.Replace(goodSpec, `[104, 105]`, `null`, 1)
	line = strings.Replace(line, `{"secs": 4, "nanos": 500000000}`, `null`, 1)
	_, setup, err := ParseSpec([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if setup.LockData != nil || setup.SessionTimeout != defaultSessionTimeout {
		t.Errorf("setup %+v", setup)
	}
	// An empty array is data (empty), not "no data".
	_, setup, _ = ParseSpec([]byte(strings.Replace(goodSpec, `[104, 105]`, `[]`, 1)))
	if setup.LockData == nil || len(setup.LockData) != 0 {
		t.Errorf("empty lock_data %#v", setup.LockData)
	}
}

func TestParseSpecRejects(t *testing.T) {
	cases := []struct {
		from, to    string
		unsupported bool
		says        string
	}{
		{`{"mutex": {"max_leases": 1}}`, `"read-write"`, true, "read-write locks"},
		{`{"mutex": {"max_leases": 1}}`, `{"mutex": {"max_leases": 3}}`, true, "max_leases"},
		{`{"mutex": {"max_leases": 1}}`, `{"semaphore": {"max_leases": 1}}`, true, "semaphore locks"},
		{`{"mutex": {"max_leases": 1}}`, `{"multi": {"members": 2}}`, true, "multi locks"},
		{`{"mutex": {"max_leases": 1}}`, `42`, false, "unknown lock kind"},
		{`127.0.0.2:2181"`, `127.0.0.2:2181/chroot"`, true, "chroot"},
		{`"127.0.0.1:2181,127.0.0.2:2181"`, `" , "`, false, "names no server"},
		{`[104, 105]`, `[104, 256]`, false, "not a byte"},
		{`"/zkurator/m"`, `"zkurator/m"`, false, "not an absolute path"},
		{`{"id"`, `{"id`, false, "bad spec line"},
	}
	for _, c := range cases {
		_, _, err := ParseSpec([]byte(strings.Replace(goodSpec, c.from, c.to, 1)))
		var se *SetupError
		if !errors.As(err, &se) || se.Unsupported != c.unsupported || !strings.Contains(se.Message, c.says) {
			t.Errorf("%s: got %#v", c.to, err)
		}
	}
}

func TestParseCommand(t *testing.T) {
	cmd, err := ParseCommand([]byte(`{"op": "acquire", "side": "mutex", "timeout": null}`))
	if err != nil || cmd.Op != "acquire" || cmd.Side != "mutex" || cmd.Timeout != nil {
		t.Errorf("null timeout: %+v %v", cmd, err)
	}
	cmd, _ = ParseCommand([]byte(`{"op": "acquire", "side": "mutex", "timeout": {"secs": 0, "nanos": 300000000}}`))
	if cmd.Timeout == nil || cmd.Timeout.Std() != 300*time.Millisecond {
		t.Errorf("300 ms timeout: %+v", cmd.Timeout)
	}
	cmd, _ = ParseCommand([]byte(`{"op": "write-value", "counter": "/c", "side": "mutex", "protection": "plain"}`))
	if cmd.Counter != "/c" || cmd.Protection != "plain" {
		t.Errorf("write-value: %+v", cmd)
	}
	for _, bad := range []string{`not json`, `{"side": "mutex"}`, `[1]`, `{"op": 3}`} {
		if _, err := ParseCommand([]byte(bad)); ErrorKind(err) != "other" {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestDurationSaturates(t *testing.T) {
	if d := (Duration{Secs: 1 << 62}).Std(); d <= 0 {
		t.Errorf("huge duration became %v", d)
	}
}

func TestErrorKind(t *testing.T) {
	cases := map[error]string{
		zk.ErrNoAuth:           "no-auth",
		zk.ErrSessionExpired:   "session-lost",
		zk.ErrClosing:          "session-lost",
		zk.ErrConnectionClosed: "session-lost",
		zk.ErrNotLocked:        "not-held",
		zk.ErrDeadlock:         "other",
		zk.ErrNoNode:           "other",
		fmt.Errorf("wrapped: %w", zk.ErrSessionExpired): "session-lost",
		&KindError{Kind: "unsupported", Message: "x"}:   "unsupported",
	}
	for err, want := range cases {
		if got := ErrorKind(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func TestReplies(t *testing.T) {
	check := func(v interface{}, want string) {
		t.Helper()
		got, _ := json.Marshal(v)
		if string(got) != want {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
	check(statusReply(""), `{"held":[],"lost":[],"nodes":[],"reply":"status","revoked":[]}`)
	check(statusReply("/l/n"), `{"held":[["mutex",1]],"lost":[],"nodes":["/l/n"],"reply":"status","revoked":[]}`)
	check(errorReply(zk.ErrNotLocked), `{"kind":"not-held","message":"zk: not locked","reply":"error"}`)
	check(grantedReply("/l/n"), `{"node":"/l/n","reply":"granted"}`)
}

// The reflection readers find go-zk v1.0.4's fields.
func TestPeek(t *testing.T) {
	if !canReadPassword() {
		t.Fatal("Conn.passwd not found")
	}
	if _, ok := sessionPassword(&zk.Conn{}); !ok {
		t.Error("sessionPassword")
	}
	if _, ok := sessionTimeoutMs(&zk.Conn{}); !ok {
		t.Error("sessionTimeoutMs")
	}
	if lockNode(zk.NewLock(nil, "/l", nil)) != "" {
		t.Error("a new Lock holds no node")
	}
	if _, ok := field((*zk.Conn)(nil), "passwd", 0); ok {
		t.Error("nil pointer accepted")
	}
}

func TestHello(t *testing.T) {
	h := hello()
	caps := h["capabilities"].(map[string]interface{})
	if h["runtime"] != "go-zk" || caps["lock_data"] != true || caps["session_credentials"] != true {
		t.Errorf("hello %v", h)
	}
}
