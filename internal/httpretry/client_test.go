package httpretry

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/proc"
)

func TestNewClient(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(nil, ClientOptions{}); !errors.Is(err, ErrNoHTTPClient) {
		t.Fatalf("nil base: err = %v, want ErrNoHTTPClient", err)
	}
	inner := &http.Transport{}
	base := &http.Client{Transport: inner, Timeout: time.Second}
	hc, err := NewClient(base, ClientOptions{Policy: Policy{MaxAttempts: 2}, Service: "Test API"})
	if err != nil {
		t.Fatal(err)
	}
	if base.Transport != inner || base.Timeout != time.Second {
		t.Error("the given client was changed")
	}
	if hc.Timeout != 0 {
		t.Errorf("timeout = %v, want 0 (the transport bounds the tries)", hc.Timeout)
	}
	tr, ok := hc.Transport.(*Transport)
	if !ok || tr.Base != inner || tr.Service != "Test API" || tr.Policy.MaxAttempts != 2 || tr.Policy.MaxWait != DefaultPolicy.MaxWait {
		t.Errorf("transport = %+v", hc.Transport)
	}
	if _, ok := tr.Clock.(proc.SystemClock); !ok {
		t.Errorf("clock = %T, want proc.SystemClock", tr.Clock)
	}
}
