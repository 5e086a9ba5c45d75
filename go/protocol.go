package main

// The pure part of the contender: the JSON shapes of docs/contender-protocol.md
// (spec, commands, replies) and the mapping of go-zk's errors onto the
// protocol's error kinds. Nothing here talks to ZooKeeper, so protocol_test.go
// runs without a server.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// Duration is serde's rendering of a Rust Duration: {"secs": 1, "nanos": 5}.
// A JSON null decodes into a nil *Duration, which means "forever".
type Duration struct {
	Secs  uint64 `json:"secs"`
	Nanos uint32 `json:"nanos"`
}

// Std converts to a time.Duration (saturating: no real spec is that long).
func (d Duration) Std() time.Duration {
	const maxSecs = uint64(1<<63-1) / uint64(time.Second)
	if d.Secs >= maxSecs {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(d.Secs)*time.Second + time.Duration(d.Nanos)
}

// Spec is the first stdin line.
type Spec struct {
	ID             string          `json:"id"`
	Connect        string          `json:"connect"`
	LockPath       string          `json:"lock_path"`
	Kind           json.RawMessage `json:"kind"`
	LockData       *[]int          `json:"lock_data"` // numbers 0..255, or null
	SessionTimeout *Duration       `json:"session_timeout"`
	Runtime        string          `json:"runtime"`
}

// Setup is what a valid Spec asks for, checked and converted.
type Setup struct {
	Servers        []string
	LockPath       string
	LockData       []byte // nil: Lock(), else LockWithData
	SessionTimeout time.Duration
}

// defaultSessionTimeout applies when the spec carries no session_timeout.
const defaultSessionTimeout = 10 * time.Second

// SetupError is a spec that cannot be set up; Unsupported marks one asking
// for something go-zk does not have (the harness skips the run).
type SetupError struct {
	Unsupported bool
	Message     string
}

func (e *SetupError) Error() string { return e.Message }

// ParseSpec decodes and checks the spec line.
func ParseSpec(line []byte) (*Spec, *Setup, error) {
	var spec Spec
	if err := json.Unmarshal(line, &spec); err != nil {
		return nil, nil, &SetupError{Message: "bad spec line: " + err.Error()}
	}
	if err := checkKind(spec.Kind); err != nil {
		return &spec, nil, err
	}
	if spec.LockPath == "" || !strings.HasPrefix(spec.LockPath, "/") {
		return &spec, nil, &SetupError{Message: fmt.Sprintf("lock_path %q is not an absolute path", spec.LockPath)}
	}
	setup := &Setup{LockPath: spec.LockPath, SessionTimeout: defaultSessionTimeout}
	for _, s := range strings.Split(spec.Connect, ",") {
		if s = strings.TrimSpace(s); s != "" {
			setup.Servers = append(setup.Servers, s)
		}
	}
	if len(setup.Servers) == 0 {
		return &spec, nil, &SetupError{Message: fmt.Sprintf("connect %q names no server", spec.Connect)}
	}
	if last := setup.Servers[len(setup.Servers)-1]; strings.Contains(last, "/") {
		return &spec, nil, &SetupError{Unsupported: true, Message: "go-zk has no chroot connect strings: " + spec.Connect}
	}
	if spec.LockData != nil {
		setup.LockData = make([]byte, 0, len(*spec.LockData))
		for _, n := range *spec.LockData {
			if n < 0 || n > 255 {
				return &spec, nil, &SetupError{Message: fmt.Sprintf("lock_data holds %d, not a byte", n)}
			}
			setup.LockData = append(setup.LockData, byte(n))
		}
	}
	if spec.SessionTimeout != nil {
		setup.SessionTimeout = spec.SessionTimeout.Std()
	}
	return &spec, setup, nil
}

// checkKind accepts {"mutex": {"max_leases": 1}} only: go-zk's Lock is a
// plain mutex.
func checkKind(raw json.RawMessage) error {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return &SetupError{Unsupported: true, Message: fmt.Sprintf("%s locks: go-zk has a mutex only", name)}
	}
	var obj map[string]struct {
		MaxLeases *int `json:"max_leases"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return &SetupError{Message: fmt.Sprintf("unknown lock kind %s", string(raw))}
	}
	for name, body := range obj {
		if name != "mutex" {
			return &SetupError{Unsupported: true, Message: fmt.Sprintf("%s locks: go-zk has a mutex only", name)}
		}
		if body.MaxLeases == nil || *body.MaxLeases != 1 {
			return &SetupError{Unsupported: true, Message: "mutex with max_leases other than 1: go-zk's Lock has no leases"}
		}
	}
	return nil
}

// Command is one stdin line after the spec; fields unused by an op stay empty.
type Command struct {
	Op         string    `json:"op"`
	Side       string    `json:"side"`
	Timeout    *Duration `json:"timeout"`
	Node       string    `json:"node"`
	Counter    string    `json:"counter"`
	Protection string    `json:"protection"`
}

// ParseCommand decodes one command line.
func ParseCommand(line []byte) (*Command, error) {
	var cmd Command
	if err := json.Unmarshal(line, &cmd); err != nil {
		return nil, &KindError{Kind: "other", Message: "bad command line: " + err.Error()}
	}
	if cmd.Op == "" {
		return nil, &KindError{Kind: "other", Message: "command line without an op: " + string(line)}
	}
	return &cmd, nil
}

// KindError is an error that already has its protocol kind.
type KindError struct {
	Kind    string
	Message string
}

func (e *KindError) Error() string { return e.Message }

// ErrorKind maps an error from go-zk (or this adapter) to a protocol kind.
func ErrorKind(err error) string {
	var ke *KindError
	switch {
	case errors.As(err, &ke):
		return ke.Kind
	case errors.Is(err, zk.ErrNotLocked):
		return "not-held"
	case errors.Is(err, zk.ErrNoAuth):
		return "no-auth"
	case errors.Is(err, zk.ErrSessionExpired), errors.Is(err, zk.ErrClosing),
		errors.Is(err, zk.ErrConnectionClosed):
		return "session-lost"
	}
	return "other" // ErrDeadlock (a second Lock) included
}

// Reply shapes.

func errorReply(err error) map[string]interface{} {
	return map[string]interface{}{"reply": "error", "kind": ErrorKind(err), "message": err.Error()}
}

func okReply() map[string]interface{} { return map[string]interface{}{"reply": "ok"} }

func grantedReply(node string) map[string]interface{} {
	return map[string]interface{}{"reply": "granted", "node": node}
}

// statusReply: go-zk's Lock holds at most one node and never counts up.
func statusReply(node string) map[string]interface{} {
	held, nodes := [][]interface{}{}, []string{}
	if node != "" {
		held = append(held, []interface{}{"mutex", 1})
		nodes = append(nodes, node)
	}
	return map[string]interface{}{
		"reply": "status", "held": held, "nodes": nodes,
		"revoked": []string{}, "lost": []string{},
	}
}
