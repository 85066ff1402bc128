// Package lint holds the tests that lint the repository's non-Go files
// with the libraries of the tools that read them: the Dockerfile with
// BuildKit's parser and linter, the workflows and the example workflow
// (against action.yml) with actionlint. It is a module of its own
// (lint/go.mod), so these libraries are not dependencies of modelci; it
// does not import modelci either, it reads the files by relative path.
//
// Run the tests with `go test -C lint ./...` (or `cd lint && go test ./...`).
package lint
