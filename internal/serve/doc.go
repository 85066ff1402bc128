// Package serve provides the model serving runtime: an http.Handler that
// answers the KServe Open Inference Protocol V2 (REST) and MLflow's scoring
// protocol for one model directory, exposes Prometheus metrics including
// per-feature data drift (PSI over a sliding window of recent inputs
// against the training profile), optionally writes a sampled prediction
// log, and shuts down gracefully.
//
// Endpoints (the routes of the server's ServeMux, one per line; every other
// method on these paths gets a 405 with Allow, in the endpoint's protocol,
// and every other path a V2 404):
//
//	GET  /v2                                            server metadata
//	GET  /v2/{$}                                        server metadata
//	GET  /v2/health/live                                liveness
//	GET  /v2/health/ready                               readiness (503 while shutting down)
//	GET  /v2/models/{name}                              model metadata
//	GET  /v2/models/{name}/versions/{version}           model metadata
//	GET  /v2/models/{name}/ready                        model readiness
//	GET  /v2/models/{name}/versions/{version}/ready     model readiness
//	POST /v2/models/{name}/infer                        V2 inference
//	POST /v2/models/{name}/versions/{version}/infer     V2 inference
//	POST /invocations                                   MLflow scoring (JSON or text/csv)
//	GET  /ping                                          MLflow health
//	GET  /health                                        MLflow health
//	GET  /version                                       the runtime's version
//	GET  /metrics                                       Prometheus
//
// GET also answers HEAD. {name} must be the model's name and {version}, if
// given, its version.
//
// The drift window is the last --drift-window rows scored, whatever the
// size of the requests that carried them (a request longer than the window
// contributes its last rows). modelci_drift_window_rows counts them; the
// PSI gauges are exported only once the window holds driftMinRows (500)
// rows, or is full if it is smaller, so that an alert on PSI never fires
// on a handful of rows.
//
// Inference requests reserve their body's bytes in a budget
// (Options.MaxInflightBytes); past it they get 503 Service Unavailable with
// Retry-After: 1, before their body is read.
//
// The model name is model.json's name; its version is the first 12 hex
// digits of model.json's checksum (see Version).
//
// The request hot path decodes JSON with a small validating scanner into
// pooled, row-major buffers instead of encoding/json: see the benchmarks
// in bench_test.go.
//
// This package is imported by the slim modelci-serve binary, so it must not
// import the CLI framework, GitHub or registry clients (imports_test.go
// enforces that).
package serve
