package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGracefulShutdownUnderLoad fires concurrent requests from keep-alive
// clients at a server on loopback and shuts it down in the middle, with and
// without a shutdown delay. Readiness must turn false while the server
// still answers; then requests in flight, including ones whose bodies are
// still being sent, must all be answered with 200; no response the server
// produced may be lost, no request may get an error status, and no request
// may fail: none before shutdown, and none on a keep-alive connection
// (a reset or EOF when reusing it). Once shutdown has begun, a new
// connection may be refused, or reset by the kernel when the listener
// closes with it still in the accept queue: the server never accepted it,
// so its request was never handled (the last check, that every request
// the handler completed reached its client, holds regardless). Those are
// counted apart.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, 200 * time.Millisecond} {
		t.Run("delay "+delay.String(), func(t *testing.T) {
			t.Parallel()
			testShutdownUnderLoad(t, delay)
		})
	}
}

// isRefused reports whether a client error is a refused connection: the
// request was never sent.
func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func testShutdownUnderLoad(t *testing.T, delay time.Duration) {
	s := newServer(t, "regression", Options{})
	const (
		workers      = 8
		slowRequests = 4
		maxPerWorker = 5000 // bounds the load loop
	)
	var entered, completed, slowEntered atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infer := r.URL.Path == "/invocations" || strings.HasSuffix(r.URL.Path, "/infer")
		if infer {
			entered.Add(1)
			if r.Header.Get("X-Slow") != "" {
				slowEntered.Add(1)
			}
		}
		s.ServeHTTP(w, r)
		if infer {
			completed.Add(1)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := DefaultConfig()
	cfg.ShutdownDelay = delay
	cfg.ShutdownTimeout = 20 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, s, cfg, slog.New(slog.DiscardHandler)) }()

	// Keep-alive clients. Their idle timeout is well below keepAliveGrace,
	// the contract that makes shutdown reset-free: the server closes a
	// connection that has been idle that long, and a client that kept it
	// longer and sends on it at that instant would see a reset (the
	// HTTP/1.1 race every idle timeout has).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers + slowRequests + 2, IdleConnTimeout: keepAliveGrace / 10}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	v2Body := `{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"BYTES","data":[1500,3,20,"paris"]}]}`
	mlBody := `{"instances":[[1500,3,20,"paris"]]}`

	var (
		mu          sync.Mutex
		ok200       int64
		badStatus   []string
		failed      []error // requests that failed: see below
		refused     int     // new connections the server never accepted
		shutdownAt  time.Time
		notReadyAt  time.Time
		servedAfter int // inference requests started after readiness was false and answered 200
	)
	started := time.Now()
	shuttingDown := func() (bool, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		return !shutdownAt.IsZero(), notReadyAt
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < maxPerWorker; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path, body, ct := base+"/v2/models/houses/infer", v2Body, "application/json"
				if (w+i)%2 == 1 {
					path, body = base+"/invocations", mlBody
				}
				begin := time.Now()
				var reused atomic.Bool
				req, _ := http.NewRequest("POST", path, strings.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
					GotConn: func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
				}))
				resp, err := client.Do(req)
				if err != nil {
					down, _ := shuttingDown()
					mu.Lock()
					if down && (isRefused(err) || !reused.Load()) {
						refused++
					} else {
						failed = append(failed, fmt.Errorf("shutting down %v, reused connection %v, sent %v after shutdown began: %w", down, reused.Load(), begin.Sub(shutdownAt), err))
					}
					mu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 200 && bytes.Contains(b, []byte(`[`)) {
					ok200++
					if !notReadyAt.IsZero() && begin.After(notReadyAt) {
						servedAfter++
					}
				} else {
					badStatus = append(badStatus, resp.Status+" "+string(b))
				}
				mu.Unlock()
			}
		}()
	}

	// Slow requests: headers and half a body now, the rest only after the
	// listener has closed. They are in flight during the whole shutdown.
	release := make(chan struct{})
	slow := make(chan string, slowRequests)
	for range slowRequests {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(v2Body[:30]))
			<-release
			pw.Write([]byte(v2Body[30:]))
			pw.Close()
		}()
		go func() {
			req, _ := http.NewRequest("POST", base+"/v2/models/houses/infer", pr)
			req.Header.Set("X-Slow", "1")
			req.ContentLength = int64(len(v2Body))
			resp, err := client.Do(req)
			if err != nil {
				slow <- "error: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				slow <- resp.Status + " " + string(b)
				return
			}
			slow <- ""
		}()
	}

	// Readiness prober.
	proberDone := make(chan struct{})
	go func() {
		defer close(proberDone)
		pc := &http.Client{Timeout: 5 * time.Second}
		for time.Since(started) < 20*time.Second {
			resp, err := pc.Get(base + "/v2/health/ready")
			if err != nil {
				if isRefused(err) {
					return // the listener is closed
				}
				// A new connection caught in the accept queue when the
				// listener closed: try again.
				time.Sleep(5 * time.Millisecond)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				mu.Lock()
				if notReadyAt.IsZero() {
					notReadyAt = time.Now()
				}
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	// Let load build up and the slow requests enter the handler.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := ok200
		mu.Unlock()
		if n >= 300 && slowEntered.Load() == slowRequests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("load did not start: %d answers, %d slow requests in flight", n, slowEntered.Load())
		}
	}
	mu.Lock()
	shutdownAt = time.Now()
	mu.Unlock()
	cancel() // what SIGTERM does in main

	// Wait until the listener is closed, then let the slow requests finish.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener never closed")
		}
	}
	closedAt := time.Now()
	select {
	case err := <-served:
		t.Fatalf("the server stopped before its in-flight requests finished: %v", err)
	default:
	}
	close(release)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not drain")
	}
	close(stop)
	wg.Wait()
	<-proberDone
	for range slowRequests {
		if msg := <-slow; msg != "" {
			t.Errorf("a request in flight during shutdown was lost: %s", msg)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(badStatus) > 0 {
		t.Errorf("%d requests got an error status, e.g. %s", len(badStatus), badStatus[0])
	}
	if len(failed) > 0 {
		t.Errorf("%d requests failed (want 0), e.g. %v", len(failed), failed[0])
	}
	if delay > 0 {
		if notReadyAt.IsZero() || notReadyAt.After(closedAt) {
			t.Errorf("readiness did not turn false before the listener closed (not ready at %v, closed at %v)", notReadyAt.Sub(started), closedAt.Sub(started))
		}
		if servedAfter == 0 {
			t.Error("no request was served between readiness turning false and the listener closing")
		}
	}
	if e, c := entered.Load(), completed.Load(); e != c {
		t.Errorf("%d requests entered the handler but %d completed", e, c)
	}
	if got, want := ok200+slowRequests, completed.Load(); got != want {
		t.Errorf("clients received %d answers but the server completed %d requests: responses were lost", got, want)
	}
	t.Logf("%d answers (%d after readiness turned false), %d slow requests drained, %d new connections not accepted after the listener closed", ok200, servedAfter, slowRequests, refused)
}
