package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/profile"
)

// Env is everything the runtime touches outside its configuration: the
// process environment that main builds (proc.Env: stdio, getenv, the
// clock, randomness), and the listening socket.
type Env struct {
	proc.Env
	// Listen opens the listening socket; nil means net.Listen.
	Listen func(network, addr string) (net.Listener, error)
	// Ready, if set, is called with the listening address once the server
	// accepts connections.
	Ready func(addr net.Addr)
}

// defaults fills in what Run itself uses; New defaults the rest (Stdout,
// Now, Rand) as Options.
func (e *Env) defaults() {
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Listen == nil {
		e.Listen = net.Listen
	}
}

// now is the Env's clock, nil when it has none (New then uses time.Now).
func (e *Env) now() func() time.Time {
	if e.Clock == nil {
		return nil
	}
	return e.Clock.Now
}

// NewLogger returns the runtime's logger in the configured format.
func NewLogger(format string, w io.Writer) *slog.Logger {
	if format == LogJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// Load reads a model directory: model.json with its schema version and
// the checksums of its files verified, and profile.json when model.json
// lists it (nil otherwise).
func Load(dir string) (*model.Model, *profile.Profile, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := m.Files[model.FileProfile]; !ok {
		return m, nil, nil
	}
	prof, err := profile.Load(filepath.Join(dir, model.FileProfile))
	if err != nil {
		return nil, nil, fmt.Errorf("load model from %s: %w: %w", dir, model.ErrCorrupt, err)
	}
	return m, prof, nil
}

// Run loads the model, serves it on cfg.Addr until ctx is done, then shuts
// down gracefully (see Serve).
func Run(ctx context.Context, cfg Config, env Env) error {
	env.defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := checkInflight(cfg.MaxInflightBytes, cfg.MaxBodyBytes); err != nil {
		return err
	}
	logger := NewLogger(cfg.LogFormat, env.Stderr)
	m, prof, err := Load(cfg.ModelDir)
	if err != nil {
		return err
	}
	if prof == nil && cfg.DriftWindow > 0 {
		logger.Warn("the model directory has no profile.json; drift gauges are off", "model_dir", cfg.ModelDir)
	}
	s, err := New(m, prof, Options{
		MaxBodyBytes:          cfg.MaxBodyBytes,
		MaxRows:               cfg.MaxRows,
		MaxInflightBytes:      cfg.MaxInflightBytes,
		DriftWindow:           cfg.DriftWindow,
		PredictionLog:         cfg.PredictionLog,
		PredictionLogSample:   cfg.PredictionLogSample,
		PredictionLogMaxBytes: cfg.PredictionLogMaxBytes,
		Stdout:                env.Stdout,
		Logger:                logger,
		Now:                   env.now(),
		Rand:                  env.Rand,
	})
	if err != nil {
		return fmt.Errorf("serve %s: %w", cfg.ModelDir, err)
	}
	ln, err := env.Listen("tcp", cfg.Addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	logger.Info("serving model",
		"model", m.Name, "version", s.version, "task", m.Task, "algorithm", m.Algorithm,
		"features", len(m.Features), "addr", ln.Addr().String(), "model_dir", cfg.ModelDir,
		"max_body_bytes", cfg.MaxBodyBytes, "max_inflight_bytes", s.limit.max, "max_rows", cfg.MaxRows, "drift_window", cfg.DriftWindow)
	if env.Ready != nil {
		env.Ready(ln.Addr())
	}
	return Serve(ctx, ln, s, cfg, logger)
}

// Serve answers HTTP requests on ln with s until ctx is done, then shuts
// down in order: readiness turns false and every response says
// Connection: close, so that keep-alive clients leave after their next
// answer instead of being reset; after cfg.ShutdownDelay the listener
// closes; connections still in use get up to keepAliveGrace to turn quiet;
// requests in flight finish (the last two steps within
// cfg.ShutdownTimeout); the prediction log is flushed. It closes ln.
func Serve(ctx context.Context, ln net.Listener, s *Server, cfg Config, logger *slog.Logger) error {
	return serve(ctx, ln, s, s, cfg, logger)
}

// serve is Serve with the handler separate from the server whose
// readiness and log it manages (tests wrap the handler).
func serve(ctx context.Context, ln net.Listener, h http.Handler, s *Server, cfg Config, logger *slog.Logger) error {
	d := newDrainer(h, time.Now)
	srv := &http.Server{
		Handler:           d,
		ConnState:         d.connState,
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.SetReady(false)
	d.drain()
	logger.Info("shutting down: readiness is false", "keep_alives", false, "delay", cfg.ShutdownDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	if cfg.ShutdownDelay > 0 {
		time.Sleep(cfg.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting first; Serve returns the accept error, which is ours.
	// Then let the clients of the remaining keep-alive connections send
	// their next request (answered with Connection: close) before
	// Shutdown closes what is still idle. srv.SetKeepAlivesEnabled(false)
	// is not used: it closes idle connections at once, which is the race.
	ln.Close()
	<-errc
	d.waitQuiet(sctx, keepAliveGrace, 10*time.Millisecond)
	err := srv.Shutdown(sctx)
	if cerr := s.Close(); cerr != nil {
		logger.Error("closing the prediction log", "err", cerr)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("drain in-flight requests: %w", err)
	}
	logger.Info("stopped: all in-flight requests answered")
	return nil
}
