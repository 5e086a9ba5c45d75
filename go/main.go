// Command go-contender is the zkurator harness's "go-zk" runtime: one lock
// contender (one process, one ZooKeeper session, one zk.Lock) driving
// github.com/go-zookeeper/zk's Lock, speaking the JSON-lines protocol of
// docs/contender-protocol.md on stdin and stdout.
//
// Build: cd go && go build -o go-contender .   (or: go run .)
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const zkModule = "github.com/go-zookeeper/zk"

// sessionWait bounds the wait for the first session (the harness gives up
// on a contender that is not ready within 45 s).
const sessionWait = 30 * time.Second

var (
	// protoMu guards protoOut, the real stdout: protocol lines only.
	protoMu  sync.Mutex
	protoOut *os.File
	// ending is set once shutdown starts: an acquire that go-zk aborts when
	// the connection closes must not reply any more.
	ending atomic.Bool
	logger = log.New(os.Stderr, "go-contender: ", log.LstdFlags|log.Lmicroseconds)
)

func send(v interface{}) {
	line, err := json.Marshal(v)
	if err != nil { // cannot happen with the maps used here
		line = []byte(`{"reply":"error","kind":"other","message":"cannot encode reply"}`)
	}
	protoMu.Lock()
	defer protoMu.Unlock()
	if ending.Load() {
		return
	}
	protoOut.Write(append(line, '\n'))
}

func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == zkModule {
				if dep.Replace != nil {
					return dep.Replace.Version
				}
				return dep.Version
			}
		}
	}
	return "unknown"
}

func hello() map[string]interface{} {
	return map[string]interface{}{
		"hello": "zkurator-contender", "protocol": 1, "runtime": "go-zk",
		"versions": map[string]string{zkModule: moduleVersion(), "go": runtime.Version()},
		"capabilities": map[string]interface{}{
			"kinds": []string{"mutex"}, "leases": false, "timeouts": false,
			"reentrant": false, "downgrade": false, "revocation": false,
			"lock_data":    true, // v1.0.4 has LockWithData
			"participants": false, "workloads": []string{}, "oob": false,
			"session_credentials": canReadPassword(), "renews_session": false,
		},
	}
}

// readLines feeds stdin's lines to the returned channel, which is closed at
// end of file. The channel is unbuffered: once a line is taken, the next is
// read, so at end of file every earlier line is with the main loop. If the
// main loop does not take the end of file within 250 ms it is stuck in an
// acquire and onEOF ends the process from here.
func readLines(onEOF func()) <-chan []byte {
	lines := make(chan []byte)
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			line, err := r.ReadBytes('\n')
			if line = bytes.TrimSpace(line); len(line) > 0 {
				lines <- line
			}
			if err != nil {
				break
			}
		}
		go func() {
			time.Sleep(250 * time.Millisecond)
			onEOF()
		}()
		close(lines)
	}()
	return lines
}

func main() {
	// Keep the real stdout for protocol lines; anything printed through
	// os.Stdout from here on lands on stderr.
	protoOut = os.Stdout
	os.Stdout = os.Stderr
	send(hello())

	c := &contender{}
	lines := readLines(c.shutdown)
	go watchExit(c.shutdown)

	specLine, ok := <-lines
	if !ok {
		return
	}
	c.opMu.Lock()
	ready, err := c.start(specLine)
	c.opMu.Unlock()
	if err != nil {
		logger.Printf("not ready: %v", err)
		se, _ := err.(*SetupError)
		send(map[string]interface{}{"ready": false, "unsupported": se != nil && se.Unsupported, "error": err.Error()})
		os.Exit(1)
	}
	send(ready)

	for line := range lines {
		c.opMu.Lock()
		reply, closing := c.handle(line)
		send(reply)
		c.opMu.Unlock()
		if closing {
			break
		}
	}
	c.shutdown() // close, or end of file: release what is held, exit 0
}

// watchExit calls shutdown on SIGTERM / SIGINT and when the parent process
// goes away (its pid changes), even while an acquire blocks.
func watchExit(shutdown func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	parent := os.Getppid()
	tick := time.NewTicker(200 * time.Millisecond)
	for {
		select {
		case s := <-sigs:
			logger.Printf("%v: shutting down", s)
			shutdown()
		case <-tick.C:
			if os.Getppid() != parent {
				logger.Printf("parent gone: shutting down")
				shutdown()
			}
		}
	}
}
