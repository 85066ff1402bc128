package lint

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// repoRoot is the repository root: the tests read its files (Dockerfile,
// workflows, action.yml, Go source) by relative path.
const repoRoot = ".."

// The image's files.
const (
	modelciPath = "/usr/local/bin/modelci"
	modelciPkg  = "./cmd/modelci"
)

// runtimeArches are the platforms `modelci package` builds images for by
// default; the image carries a runtime for each, whatever its own
// platform.
var runtimeArches = []string{"amd64", "arm64"}

// mainModule holds the declarations of modelci's Go source the Dockerfile
// must agree with, read by readMainModule.
type mainModule struct {
	command        string   // entrypoint.Command: the ENTRYPOINT's argument
	runtimeDir     string   // image.DefaultRuntimeDir
	runtimeBinary  string   // image.RuntimeBinary
	runtimePackage string   // image.RuntimePackage
	goBuildFlags   []string // image.GoBuildFlags: `modelci package`'s go build flags
}

func readMainModule(t *testing.T) mainModule {
	t.Helper()
	return mainModule{
		command:        goString(t, "internal/entrypoint", "Command"),
		runtimeDir:     goString(t, "internal/image", "DefaultRuntimeDir"),
		runtimeBinary:  goString(t, "internal/image", "RuntimeBinary"),
		runtimePackage: goString(t, "internal/image", "RuntimePackage"),
		goBuildFlags:   goStrings(t, "internal/image", "GoBuildFlags"),
	}
}

var pinnedRef = regexp.MustCompile(`^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]*@sha256:[0-9a-f]{64}$`)

// goBuild is one `go build` of a RUN instruction, as the shell would run
// it: its environment assignments, flags, -o output and package.
type goBuild struct {
	env    map[string]string // stage ENV, then the command's own assignments
	flags  []string          // everything between "build" and "-o"
	output string
	pkg    string
}

// parsedDockerfile is a Dockerfile as BuildKit reads it.
type parsedDockerfile struct {
	stages   []instructions.Stage
	warnings []string
}

func parseDockerfile(src []byte) (*parsedDockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	p := &parsedDockerfile{}
	for _, w := range res.Warnings {
		p.warnings = append(p.warnings, fmt.Sprintf("line %d: %s", w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			p.warnings = append(p.warnings, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
		},
	})
	p.stages, _, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("instructions: %w", err)
	}
	return p, nil
}

// checkDockerfile returns what is wrong with the action image's
// Dockerfile: each element names one broken property.
func checkDockerfile(src []byte, mod mainModule) []string {
	df, err := parseDockerfile(src)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, w := range df.warnings {
		bad("BuildKit warns: %s", w)
	}
	if len(df.stages) < 2 {
		return append(problems, fmt.Sprintf("not multi-stage: %d stage(s)", len(df.stages)))
	}
	stageNames := map[string]bool{}
	for _, s := range df.stages {
		if !stageNames[strings.ToLower(s.BaseName)] && !pinnedRef.MatchString(s.BaseName) {
			bad("FROM %s is not pinned by digest (want name:tag@sha256:…)", s.BaseName)
		}
		if s.Name != "" {
			stageNames[strings.ToLower(s.Name)] = true
		}
		for _, c := range s.Commands {
			if _, ok := c.(*instructions.UserCommand); ok {
				bad("%s: no USER, GitHub runs container actions as root", c)
			}
		}
	}
	final := df.stages[len(df.stages)-1]
	copies := checkFinalStage(final, mod, bad)
	builds := map[string]goBuild{} // by the path it lands at in the image
	for _, s := range df.stages[:len(df.stages)-1] {
		for out, b := range checkBuildStage(s, bad) {
			for src, dst := range copies[s.Name] {
				if rel, ok := underDir(out, src); ok {
					builds[path.Join(dst, rel)] = b
				}
			}
		}
	}
	checkBuilds(builds, mod, bad)
	return problems
}

// checkFinalStage checks the image's own stage and returns its COPY
// --from instructions: stage → source → destination.
func checkFinalStage(s instructions.Stage, mod mainModule, bad func(string, ...any)) map[string]map[string]string {
	if !strings.HasPrefix(s.BaseName, "alpine:") {
		bad("the final stage is FROM %s, want a small alpine (sh and cat from busybox)", s.BaseName)
	}
	copies := map[string]map[string]string{}
	var apk, safeDir bool
	var entry *instructions.EntrypointCommand
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if m := regexp.MustCompile(`apk add --no-cache ([^&;|]*)`).FindStringSubmatch(line); m != nil {
				pkgs := strings.Fields(m[1])
				apk = slices.Contains(pkgs, "git") && slices.Contains(pkgs, "ca-certificates")
			}
			if strings.Contains(line, "git config --system --add safe.directory '*'") {
				safeDir = true
			}
		case *instructions.CopyCommand:
			if c.From == "" {
				bad("%s: the final stage copies only from the build stage", c)
				continue
			}
			if copies[c.From] == nil {
				copies[c.From] = map[string]string{}
			}
			for _, src := range c.SourcePaths {
				copies[c.From][src] = c.DestPath
			}
		case *instructions.EntrypointCommand:
			entry = c
		case *instructions.CmdCommand:
			bad("%s: no CMD, a container without arguments runs modelci run", c)
		case *instructions.WorkdirCommand:
			bad("%s: no WORKDIR, every CI system sets its own working directory", c)
		}
	}
	if !apk {
		bad("the final stage does not apk add --no-cache git and ca-certificates")
	}
	if !safeDir {
		bad("the final stage does not mark every directory safe for git (git config --system --add safe.directory '*')")
	}
	want := []string{modelciPath, mod.command}
	switch {
	case entry == nil:
		bad("no ENTRYPOINT")
	case entry.PrependShell:
		bad("%s: ENTRYPOINT must be exec form %q, not shell form (which ignores arguments)", entry, want)
	case !slices.Equal(entry.CmdLine, want):
		bad("ENTRYPOINT %q, want %q", entry.CmdLine, want)
	}
	return copies
}

// checkBuildStage checks a builder stage and returns its go builds by
// output path.
func checkBuildStage(s instructions.Stage, bad func(string, ...any)) map[string]goBuild {
	env := map[string]string{}
	builds := map[string]goBuild{}
	step := func(i int) string { return fmt.Sprintf("%s (stage %s, instruction %d)", s.Commands[i], s.Name, i+1) }
	modCopy, download, srcCopy, firstBuild := -1, -1, -1, -1
	for i, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.CopyCommand:
			srcs := slices.Clone(c.SourcePaths)
			sort.Strings(srcs)
			switch {
			case slices.Equal(srcs, []string{"go.mod", "go.sum"}):
				modCopy = i
			case slices.Contains(srcs, ".") || slices.Contains(srcs, "./"):
				srcCopy = i
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if strings.Contains(line, "go mod download") {
				download = i
			}
			got, err := goBuilds(line, env)
			if err != nil {
				bad("%s: %v", step(i), err)
			}
			for _, b := range got {
				if firstBuild < 0 {
					firstBuild = i
				}
				if _, dup := builds[b.output]; dup {
					bad("%s: %s is built twice", step(i), b.output)
				}
				builds[b.output] = b
			}
		}
	}
	if len(builds) == 0 {
		return nil
	}
	if s.Platform != "$BUILDPLATFORM" {
		bad("stage %s is FROM --platform=%q, want $BUILDPLATFORM (cross-compile, never emulate the compiler)", s.Name, s.Platform)
	}
	if env["GOTOOLCHAIN"] != "auto" {
		bad("stage %s: ENV GOTOOLCHAIN=%q, want auto (go.mod may need a newer toolchain than the image's)", s.Name, env["GOTOOLCHAIN"])
	}
	switch {
	case modCopy < 0:
		bad("stage %s: no COPY go.mod go.sum of its own before the source", s.Name)
	case download < 0:
		bad("stage %s: no RUN go mod download", s.Name)
	case srcCopy < 0:
		bad("stage %s: no COPY . . of the source", s.Name)
	case !(modCopy < download && download < srcCopy && srcCopy < firstBuild):
		bad("stage %s: want COPY go.mod go.sum (instruction %d) < RUN go mod download (%d) < COPY . . (%d) < go build (%d), so the module download is cached", s.Name, modCopy+1, download+1, srcCopy+1, firstBuild+1)
	}
	return builds
}

// checkBuilds checks the binaries that land in the image.
func checkBuilds(builds map[string]goBuild, mod mainModule, bad func(string, ...any)) {
	var want []string
	for _, arch := range runtimeArches {
		want = append(want, path.Join(mod.runtimeDir, "linux-"+arch, mod.runtimeBinary))
	}
	want = append(want, modelciPath)
	var got []string
	for p := range builds {
		got = append(got, p)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		bad("the image gets the go builds %q, want %q", got, want)
	}
	for p, b := range builds {
		if b.env["CGO_ENABLED"] != "0" {
			bad("%s: built with CGO_ENABLED=%q, want 0 (static)", p, b.env["CGO_ENABLED"])
		}
		if !slices.Equal(b.flags, mod.goBuildFlags) {
			bad("%s: go build flags %q, want `modelci package`'s %q", p, b.flags, mod.goBuildFlags)
		}
		if p == modelciPath {
			if b.pkg != modelciPkg || b.env["GOOS"] != "$TARGETOS" || b.env["GOARCH"] != "$TARGETARCH" {
				bad("%s: built from %s for %s/%s, want %s for $TARGETOS/$TARGETARCH", p, b.pkg, b.env["GOOS"], b.env["GOARCH"], modelciPkg)
			}
			continue
		}
		arch := strings.TrimPrefix(path.Base(path.Dir(p)), "linux-")
		if b.pkg != mod.runtimePackage || b.env["GOOS"] != "linux" || b.env["GOARCH"] != arch {
			bad("%s: built from %s for %s/%s, want %s for linux/%s", p, b.pkg, b.env["GOOS"], b.env["GOARCH"], mod.runtimePackage, arch)
		}
		for k, v := range map[string]string{"GOFLAGS": "", "GOWORK": "off", "GOAMD64": "v1", "GOARM64": "v8.0"} {
			if got, ok := b.env[k]; !ok || got != v {
				bad("%s: %s=%q, want %q as `modelci package` pins it", p, k, got, v)
			}
		}
	}
}

var forLoop = regexp.MustCompile(`(?s)^\s*for (\w+) in ([^;]*);\s*do\s(.*);\s*done\s*$`)

// goBuilds finds the go builds of a shell-form RUN: a sequence of simple
// commands joined by ;, && or ||, or one `for V in …; do …; done` loop
// around such a sequence. Variables stay unexpanded ($TARGETARCH) except
// the loop variable.
func goBuilds(line string, stageEnv map[string]string) ([]goBuild, error) {
	iterations := []map[string]string{{}}
	body := line
	if m := forLoop.FindStringSubmatch(line); m != nil {
		iterations = nil
		for _, v := range strings.Fields(m[2]) {
			iterations = append(iterations, map[string]string{m[1]: v})
		}
		body = m[3]
	} else if strings.Contains(line, "for ") {
		return nil, fmt.Errorf("a loop this check cannot read: %q", line)
	}
	var out []goBuild
	lex := shell.NewLex('\\')
	for _, vars := range iterations {
		for _, simple := range regexp.MustCompile(`;|&&|\|\|`).Split(body, -1) {
			words, err := lex.ProcessWords(simple, keepUnknown(vars))
			if err != nil {
				return nil, err
			}
			env := map[string]string{}
			for k, v := range stageEnv {
				env[k] = v
			}
			for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
				k, v, _ := strings.Cut(words[0], "=")
				env[k] = v
				words = words[1:]
			}
			if len(words) < 2 || words[0] != "go" || words[1] != "build" {
				continue
			}
			b := goBuild{env: env}
			rest := words[2:]
			i := slices.Index(rest, "-o")
			if i < 0 || i+1 >= len(rest) {
				return nil, fmt.Errorf("go build without -o: %q", simple)
			}
			b.flags, b.output = rest[:i], rest[i+1]
			if len(rest) != i+3 {
				return nil, fmt.Errorf("go build: want flags, -o OUTPUT and one package: %q", simple)
			}
			b.pkg = rest[i+2]
			out = append(out, b)
		}
	}
	return out, nil
}

// keepUnknown expands the given variables and leaves every other $NAME as
// written, so the check sees "$TARGETARCH" rather than "".
type keepUnknown map[string]string

func (k keepUnknown) Get(name string) (string, bool) {
	if v, ok := k[name]; ok {
		return v, true
	}
	return "$" + name, true
}

func (k keepUnknown) Keys() []string {
	keys := make([]string, 0, len(k))
	for n := range k {
		keys = append(keys, n)
	}
	return keys
}

// underDir reports whether p is dir or below it, and p relative to dir.
func underDir(p, dir string) (string, bool) {
	p, dir = path.Clean(p), path.Clean(dir)
	if p == dir {
		return ".", true
	}
	if strings.HasPrefix(p, dir+"/") {
		return strings.TrimPrefix(p, dir+"/"), true
	}
	return "", false
}

func readDockerfile(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestDockerfile checks the action image's Dockerfile, which cannot be
// built here (no Docker engine; CI builds it on GitHub).
func TestDockerfile(t *testing.T) {
	t.Parallel()
	if problems := checkDockerfile(readDockerfile(t), readMainModule(t)); len(problems) > 0 {
		t.Errorf("Dockerfile:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestDockerfileChecksCatch breaks the Dockerfile one property at a time
// and expects checkDockerfile to name the broken property.
func TestDockerfileChecksCatch(t *testing.T) {
	t.Parallel()
	orig := string(readDockerfile(t))
	mod := readMainModule(t)
	tests := []struct {
		name, old, new, want string
	}{
		{"unpinned builder", "golang:1.26-alpine@sha256:7a3e50096189ad57c9f9f865e7e4aa8585ed1585248513dc5cda498e2f41812c", "golang:1.26-alpine", "FROM golang:1.26-alpine is not pinned"},
		{"unpinned final stage", "FROM alpine:3.22@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412", "FROM alpine:3.22", "FROM alpine:3.22 is not pinned"},
		{"single stage", "", "", "not multi-stage"},
		{"download after the source", "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n", "COPY go.mod go.sum ./\nCOPY . .\nRUN go mod download\n", "so the module download is cached"},
		{"source copied with the modules", "COPY go.mod go.sum ./\n", "COPY go.mod go.sum cmd ./\n", "no COPY go.mod go.sum of its own"},
		{"cgo", "CGO_ENABLED=0 \\", "CGO_ENABLED=1 \\", `built with CGO_ENABLED="1"`},
		{"no -trimpath", "go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \\\n        -o /out/runtime", "go build -buildvcs=false -ldflags='-s -w -buildid=' \\\n        -o /out/runtime", "go build flags"},
		{"other ldflags", "-ldflags='-s -w -buildid=' \\\n      -o /out/modelci", "-ldflags='-s -w' \\\n      -o /out/modelci", "go build flags"},
		{"one runtime only", "for arch in amd64 arm64; do", "for arch in amd64; do", "the image gets the go builds"},
		{"runtimes elsewhere", "/usr/local/lib/modelci/runtime/", "/opt/runtime/", "the image gets the go builds"},
		{"modelci for the build platform", "GOOS=$TARGETOS GOARCH=$TARGETARCH go build", "go build", "for $TARGETOS/$TARGETARCH"},
		{"compiler emulated", "FROM --platform=$BUILDPLATFORM golang", "FROM golang", "want $BUILDPLATFORM"},
		{"GOTOOLCHAIN local", "GOTOOLCHAIN=auto", "GOTOOLCHAIN=local", "GOTOOLCHAIN=\"local\""},
		{"no git", "apk add --no-cache git ca-certificates", "apk add --no-cache ca-certificates", "git and ca-certificates"},
		{"no safe.directory", " \\\n && git config --system --add safe.directory '*'", "", "safe.directory"},
		{"a USER", "ENTRYPOINT [", "USER 65532\nENTRYPOINT [", "no USER"},
		{"shell-form entrypoint", `ENTRYPOINT ["/usr/local/bin/modelci", "entrypoint"]`, `ENTRYPOINT /usr/local/bin/modelci entrypoint`, "not shell form"},
		{"entrypoint without the dispatch", `ENTRYPOINT ["/usr/local/bin/modelci", "entrypoint"]`, `ENTRYPOINT ["/usr/local/bin/modelci"]`, "ENTRYPOINT"},
		{"a CMD", "ENTRYPOINT [", "CMD [\"run\"]\nENTRYPOINT [", "no CMD"},
		{"a WORKDIR", "ENTRYPOINT [", "WORKDIR /github/workspace\nENTRYPOINT [", "no WORKDIR"},
		{"lint: casing", " AS build\n", " as build\n", "FromAsCasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var src string
			if tt.name == "single stage" {
				src = orig[strings.Index(orig, "FROM alpine"):]
			} else {
				if !strings.Contains(orig, tt.old) {
					t.Fatalf("the Dockerfile no longer contains %q; update this test", tt.old)
				}
				src = strings.Replace(orig, tt.old, tt.new, 1)
			}
			problems := checkDockerfile([]byte(src), mod)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem mentions %q; got:\n  %s", tt.want, strings.Join(problems, "\n  "))
			}
		})
	}
}
