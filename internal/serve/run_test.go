package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/proc"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunRejectsBadModels: a corrupt or incompatible model directory is a
// clear error and a non-zero exit, before anything listens.
func TestRunRejectsBadModels(t *testing.T) {
	t.Parallel()
	edit := func(file, old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%s lacks %q", file, old)
			}
			if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		is     error
		substr string
	}{
		{"coefficient changed", edit("model.json", `"intercept": -0.35`, `"intercept": -0.36`), model.ErrCorrupt, "checksum"},
		{"newer schema", edit("model.json", `"schema_version": 1`, `"schema_version": 3`), model.ErrIncompatible, "schema_version 3"},
		{"profile changed", edit("profile.json", `"rows": 400`, `"rows": 401`), model.ErrCorrupt, "profile.json hashes to"},
		{"profile removed", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "profile.json")) }, os.ErrNotExist, "profile.json"},
		{"truncated", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"schema_version": 1, "na`), 0o644)
		}, model.ErrCorrupt, "not valid JSON"},
		{"not a model directory", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "model.json")) }, os.ErrNotExist, "model.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := modelDir(t, "classifier", false)
			c.mutate(t, dir)
			cfg := DefaultConfig()
			cfg.ModelDir = dir
			cfg.Addr = "127.0.0.1:0"
			var stderr syncBuffer
			err := Run(context.Background(), cfg, Env{Env: proc.Env{Stderr: &stderr}, Listen: func(string, string) (net.Listener, error) {
				t.Error("listened with a bad model")
				return nil, errors.New("no")
			}})
			if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.substr) || exitcode.Of(err) != 1 {
				t.Fatalf("error %v (exit %d), want %v mentioning %q", err, exitcode.Of(err), c.is, c.substr)
			}
		})
	}
}

// TestRunServesUntilCanceled starts the runtime on a loopback port,
// answers a real request, and stops cleanly when its context ends.
func TestRunServesUntilCanceled(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ModelDir = modelDir(t, "regression", false)
	cfg.Addr = "127.0.0.1:0"
	cfg.LogFormat = LogJSON
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Env{Env: proc.Env{Stderr: &stderr}, Ready: func(a net.Addr) { addrc <- a }})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	}
	resp, err := http.Post("http://"+addr.String()+"/invocations", "text/csv", strings.NewReader("city,age,bedrooms,sqft\nparis,20,3,1500\n"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), `{"predictions":[`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"serving model"`, `"model":"houses"`, `"msg":"shutting down: readiness is false"`, `"msg":"stopped: all in-flight requests answered"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestRunListenError(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ModelDir = modelDir(t, "regression", false)
	cfg.Addr = "127.0.0.1:1"
	err := Run(context.Background(), cfg, Env{Listen: func(string, string) (net.Listener, error) {
		return nil, errors.New("address already in use")
	}})
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:1: address already in use") {
		t.Fatalf("error %v", err)
	}
}
