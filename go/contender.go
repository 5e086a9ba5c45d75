package main

// The contender itself: one go-zk connection (one session at a time) and one
// zk.Lock, driven by the commands of the main loop.

import (
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// sessionMarker starts the stderr line announcing a new session.
const sessionMarker = "ZKURATOR-SESSION"

type session struct {
	id        int64
	password  []byte // nil when it could not be read
	timeoutMs int64
}

func (s session) idHex() string { return fmt.Sprintf("0x%x", uint64(s.id)) }

type contender struct {
	opMu    sync.Mutex // held by the main loop during start and each command
	endOnce sync.Once
	connMu  sync.Mutex // guards conn, for shutdown from other goroutines
	conn    *zk.Conn
	lock    *zk.Lock // used under opMu only
	data    []byte   // the spec's lock_data; nil: Lock()
}

// start connects, waits for the first session and builds the lock; it
// returns the ready line.
func (c *contender) start(line []byte) (map[string]interface{}, error) {
	_, setup, err := ParseSpec(line)
	if err != nil {
		return nil, err
	}
	c.data = setup.LockData

	// The event callback runs on go-zk's connection goroutine right after it
	// stored a new session's id, password and timeout: the one place they
	// can be read without a data race. It needs the *Conn before Connect
	// returns (the goroutine may already run), so an option captures it;
	// options are applied before that goroutine starts.
	var captured *zk.Conn
	sessions := make(chan session, 16)
	onEvent := func(ev zk.Event) {
		if ev.Type != zk.EventSession || ev.State != zk.StateHasSession {
			return
		}
		s := session{id: captured.SessionID(), timeoutMs: setup.SessionTimeout.Milliseconds()}
		if pw, ok := sessionPassword(captured); ok {
			s.password = pw
		}
		if ms, ok := sessionTimeoutMs(captured); ok {
			s.timeoutMs = ms
		}
		select { // the callback must not block
		case sessions <- s:
		default:
			logger.Printf("session 0x%x not announced: queue full", uint64(s.id))
		}
	}
	conn, events, err := zk.Connect(setup.Servers, setup.SessionTimeout,
		func(zc *zk.Conn) { captured = zc },
		zk.WithLogger(logger), // go-zk's default logger; never on stdout
		zk.WithEventCallback(onEvent))
	if err != nil {
		return nil, fmt.Errorf("zk.Connect: %w", err)
	}
	c.connMu.Lock()
	c.conn = conn
	c.connMu.Unlock()
	go func() { // the channel copy of the events: logged only
		for ev := range events {
			logger.Printf("event %v %v %s %v", ev.Type, ev.State, ev.Path, ev.Err)
		}
	}()

	var first session
	select {
	case first = <-sessions:
	case <-time.After(sessionWait):
		conn.Close()
		return nil, fmt.Errorf("no ZooKeeper session with %v within %v", setup.Servers, sessionWait)
	}
	go announce(sessions, first.id)

	c.lock = zk.NewLock(conn, setup.LockPath, zk.WorldACL(zk.PermAll))
	ready := map[string]interface{}{
		"ready": true, "session_id": first.idHex(),
		"session_timeout_ms": first.timeoutMs, "lock_data": true,
	}
	if first.password != nil {
		ready["session_password"] = hex.EncodeToString(first.password)
	}
	return ready, nil
}

// announce writes one stderr line per new session: go-zk starts a new one by
// itself after an expiry (a reconnect to the same session is not new).
func announce(sessions <-chan session, last int64) {
	for s := range sessions {
		if s.id == last {
			continue
		}
		last = s.id
		if s.password != nil {
			fmt.Fprintf(os.Stderr, "%s %s %s\n", sessionMarker, s.idHex(), hex.EncodeToString(s.password))
		}
	}
}

// handle runs one command line and returns its reply, and whether it was close.
func (c *contender) handle(line []byte) (reply map[string]interface{}, closing bool) {
	defer func() {
		if p := recover(); p != nil { // never die on a command
			reply = errorReply(&KindError{Kind: "other", Message: fmt.Sprintf("panic: %v", p)})
		}
	}()
	cmd, err := ParseCommand(line)
	if err != nil {
		return errorReply(err), false
	}
	switch cmd.Op {
	case "acquire":
		if err := checkSide(cmd.Side); err != nil {
			return errorReply(err), false
		}
		if cmd.Timeout != nil {
			return errorReply(&KindError{Kind: "unsupported", Message: "go-zk's Lock has no timeout"}), false
		}
		if c.data == nil {
			err = c.lock.Lock()
		} else {
			err = c.lock.LockWithData(c.data)
		}
		if err != nil { // a second Lock while held: zk.ErrDeadlock
			return errorReply(err), false
		}
		return grantedReply(lockNode(c.lock)), false
	case "release":
		if err := checkSide(cmd.Side); err != nil {
			return errorReply(err), false
		}
		if err := c.lock.Unlock(); err != nil { // not held: zk.ErrNotLocked
			return errorReply(err), false
		}
		return okReply(), false
	case "status":
		return statusReply(lockNode(c.lock)), false
	case "participants", "make-revocable", "revoke", "read-value", "write-value":
		return errorReply(&KindError{Kind: "unsupported", Message: cmd.Op + ": not offered by go-zk's Lock"}), false
	case "close":
		c.releaseIfHeld()
		return okReply(), true
	}
	return errorReply(&KindError{Kind: "other", Message: fmt.Sprintf("unknown command %q", cmd.Op)}), false
}

func checkSide(side string) error {
	if side != "mutex" {
		return &KindError{Kind: "other", Message: fmt.Sprintf("side %q does not exist on a mutex (sides: mutex)", side)}
	}
	return nil
}

func (c *contender) releaseIfHeld() {
	if c.lock != nil && lockNode(c.lock) != "" {
		if err := c.lock.Unlock(); err != nil {
			logger.Printf("release at close failed: %v", err)
		}
	}
}

// shutdown ends the process (exit 0) after closing the session; it releases
// first unless a command is running (an acquire blocking in go-zk): the
// session's end then removes its ephemeral node. Safe from any goroutine but
// the main loop while it holds opMu.
func (c *contender) shutdown() {
	c.endOnce.Do(func() {
		locked := c.opMu.TryLock()
		ending.Store(true) // after the close command's reply, if any
		if locked {
			c.releaseIfHeld()
		}
		c.connMu.Lock()
		conn := c.conn
		c.connMu.Unlock()
		if conn != nil {
			conn.Close()
		}
		os.Exit(0)
	})
}
