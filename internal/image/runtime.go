package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/proc"
)

// DefaultRuntimeDir is where the action container keeps prebuilt runtimes,
// one per platform: <dir>/linux-<arch>[-<variant>]/modelci-serve.
const DefaultRuntimeDir = "/usr/local/lib/modelci/runtime"

// RuntimeBinary is the file name of the serving runtime.
const RuntimeBinary = "modelci-serve"

// ModulePath is the Go module the runtime is built from.
const ModulePath = "github.com/modelci/modelci"

// RuntimePackage is the runtime's main package inside the module.
const RuntimePackage = "./cmd/modelci-serve"

// elfMachines maps a GOARCH to its ELF class and machine.
var elfMachines = map[string]struct {
	class   elf.Class
	machine elf.Machine
}{
	"amd64":   {elf.ELFCLASS64, elf.EM_X86_64},
	"arm64":   {elf.ELFCLASS64, elf.EM_AARCH64},
	"arm":     {elf.ELFCLASS32, elf.EM_ARM},
	"386":     {elf.ELFCLASS32, elf.EM_386},
	"ppc64le": {elf.ELFCLASS64, elf.EM_PPC64},
	"s390x":   {elf.ELFCLASS64, elf.EM_S390},
	"riscv64": {elf.ELFCLASS64, elf.EM_RISCV},
}

func supportedArches() []string {
	out := make([]string, 0, len(elfMachines))
	for a := range elfMachines {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// RuntimeFinder finds the serving runtime binary for each platform. For
// each platform it takes, in order:
//
//  1. an explicit --runtime for that platform ("linux/arm64=PATH"), or a
//     bare --runtime PATH when that file is a static ELF of the platform;
//  2. a binary next to the running modelci executable (symlinks resolved):
//     modelci-serve-linux-<arch>[-<variant>], or modelci-serve when it is a
//     binary of the platform (how a release archive or `go install` of both
//     commands lays them out);
//  3. the prebuilt copy in Dir (the action container's
//     /usr/local/lib/modelci/runtime/linux-<arch>/modelci-serve);
//  4. a reproducible `go build` of ./cmd/modelci-serve from the modelci
//     module found at or above WorkDir (a clone: development), when the go
//     command is available;
//  5. else the same build from the module cache at the running binary's
//     own module version (`go install …/cmd/modelci@v0.4.0` makes it
//     download github.com/modelci/modelci@v0.4.0 with `go mod download`).
//
// Every binary is checked to be a static Linux ELF of the platform's
// architecture. With Skip set, a platform whose runtime cannot be had by
// steps 2–5 is passed to Skip and left out instead of failing the whole
// search (a local run); explicit --runtime errors still fail.
type RuntimeFinder struct {
	// Dir holds prebuilt runtimes. Empty means DefaultRuntimeDir.
	Dir string
	// Flags are the --runtime values: "PATH" or "os/arch[/variant]=PATH".
	Flags []string
	// WorkDir is where to start looking for the module source.
	WorkDir string
	// CacheDir caches go builds by content. Empty means the choice of
	// CacheDirFunc, or no cache.
	CacheDir string
	// CacheDirFunc picks the cache directory when CacheDir is empty, the
	// first time a go build needs one (so nothing is created when prebuilt
	// runtimes are used); "" means no cache. See RuntimeCacheDir.
	CacheDirFunc func() string
	// Environ is the environment for go build.
	Environ []string
	// Run runs go. Nil means proc.Exec.
	Run proc.Runner
	// LookPath finds the go command. Nil means exec.LookPath.
	LookPath func(string) (string, error)
	// Logf reports progress. Nil means silent.
	Logf func(format string, args ...any)
	// Executable is the running modelci binary. Nil means os.Executable;
	// a function returning an error skips step 2.
	Executable func() (string, error)
	// BuildInfo reads the running binary's build information (its module
	// version). Nil means debug.ReadBuildInfo.
	BuildInfo func() (*debug.BuildInfo, bool)
	// Skip, when set, receives each platform whose runtime cannot be had,
	// with the reason, and Find leaves the platform out. Find still fails
	// when no platform is left.
	Skip func(p v1.Platform, reason error)
}

// Find returns one runtime per platform, in the platforms' order.
func (f *RuntimeFinder) Find(ctx context.Context, platforms []v1.Platform) ([]Runtime, error) {
	explicit, bare, err := parseRuntimeFlags(f.Flags)
	if err != nil {
		return nil, err
	}
	for p := range explicit {
		found := false
		for _, want := range platforms {
			if want.String() == p {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--runtime %s=…: %s is not one of the image's platforms (%s)", p, p, platformList(platforms))
		}
	}
	var bareArch string
	if bare != "" {
		bareArch, err = checkStaticELF(bare, "")
		if err != nil {
			return nil, fmt.Errorf("--runtime %s: %w", bare, err)
		}
	}
	out := make([]Runtime, 0, len(platforms))
	var (
		builder    *goBuilder
		builderErr error
		skipped    []skip
	)
	for _, p := range platforms {
		if path, ok := explicit[p.String()]; ok {
			rt, err := readRuntime(p, path, "--runtime "+path)
			if err != nil {
				return nil, fmt.Errorf("--runtime %s=%s: %w", p, path, err)
			}
			out = append(out, rt)
			continue
		}
		if bare != "" {
			if bareArch != p.Architecture {
				return nil, fmt.Errorf("--runtime %s is a linux/%s binary, but the image also needs %s: pass one binary per platform as --runtime %s=PATH, or restrict the image with --platform linux/%s", bare, bareArch, p, p, bareArch)
			}
			rt, err := readRuntime(p, bare, "--runtime "+bare)
			if err != nil {
				return nil, fmt.Errorf("--runtime %s: %w", bare, err)
			}
			out = append(out, rt)
			continue
		}
		if path := f.besideExecutable(p); path != "" {
			rt, err := readRuntime(p, path, path)
			if err != nil {
				return nil, fmt.Errorf("runtime next to modelci %s: %w", path, err)
			}
			out = append(out, rt)
			continue
		}
		dir := f.Dir
		if dir == "" {
			dir = DefaultRuntimeDir
		}
		pre := filepath.Join(dir, platformDirName(p), RuntimeBinary)
		if _, err := os.Stat(pre); err == nil {
			rt, err := readRuntime(p, pre, pre)
			if err != nil {
				return nil, fmt.Errorf("prebuilt runtime %s: %w", pre, err)
			}
			out = append(out, rt)
			continue
		}
		if builder == nil && builderErr == nil {
			builder, builderErr = f.newBuilder(ctx)
		}
		if builderErr != nil {
			err := noRuntimeError(p, pre, builderErr)
			if f.Skip != nil {
				skipped = append(skipped, skip{p, err})
				continue
			}
			return nil, err
		}
		rt, err := builder.build(ctx, p)
		if err != nil {
			if f.Skip != nil {
				skipped = append(skipped, skip{p, err})
				continue
			}
			return nil, err
		}
		out = append(out, rt)
	}
	if len(out) == 0 && len(skipped) > 0 {
		// Nothing to package: the first reason is the error, and no
		// platform is reported as skipped.
		return nil, skipped[0].reason
	}
	for _, s := range skipped {
		f.Skip(s.p, s.reason)
	}
	return out, nil
}

// noRuntimeError says that p has no runtime and how to get one.
func noRuntimeError(p v1.Platform, pre string, buildErr error) error {
	return fmt.Errorf("no serving runtime for %s: it is not next to the modelci executable, not at %s, no --runtime was given, and it cannot be built here: %w.\n"+
		"Fix: put modelci-serve next to modelci (go install %s/cmd/modelci-serve@VERSION), run from a clone of %s with Go installed, or build it yourself with\n"+
		"  CGO_ENABLED=0 GOOS=linux GOARCH=%s go build -trimpath -ldflags='-s -w -buildid=' -o modelci-serve-%s %s\n"+
		"and pass --runtime %s=modelci-serve-%s", p, pre, buildErr, ModulePath, ModulePath, p.Architecture, p.Architecture, RuntimePackage, p, p.Architecture)
}

// besideExecutable returns the runtime of p next to the running modelci
// binary, or "" when there is none: modelci-serve-linux-<arch>[-<variant>],
// or a modelci-serve that is an ELF of p's architecture.
func (f *RuntimeFinder) besideExecutable(p v1.Platform) string {
	exe := f.Executable
	if exe == nil {
		exe = os.Executable
	}
	path, err := exe()
	if err != nil || path == "" {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	dir := filepath.Dir(path)
	named := filepath.Join(dir, RuntimeBinary+"-"+platformDirName(p))
	if fi, err := os.Stat(named); err == nil && fi.Mode().IsRegular() {
		return named
	}
	plain := filepath.Join(dir, RuntimeBinary)
	if fi, err := os.Stat(plain); err == nil && fi.Mode().IsRegular() {
		if arch, err := checkStaticELF(plain, ""); err == nil && arch == p.Architecture {
			return plain
		}
	}
	return ""
}

// skip is a platform left out, and why.
type skip struct {
	p      v1.Platform
	reason error
}

func platformList(ps []v1.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// platformDirName is "linux-amd64" or "linux-arm-v7".
func platformDirName(p v1.Platform) string {
	s := p.OS + "-" + p.Architecture
	if p.Variant != "" {
		s += "-" + p.Variant
	}
	return s
}

func parseRuntimeFlags(flags []string) (map[string]string, string, error) {
	explicit := map[string]string{}
	bare := ""
	for _, fl := range flags {
		if fl == "" {
			return nil, "", errors.New("--runtime: empty value")
		}
		plat, path, ok := strings.Cut(fl, "=")
		if !ok {
			if bare != "" && bare != fl {
				return nil, "", fmt.Errorf("--runtime %s and --runtime %s: give at most one bare PATH; name the platform of each binary with --runtime linux/ARCH=PATH", bare, fl)
			}
			bare = fl
			continue
		}
		p, err := parsePlatform(plat)
		if err != nil {
			return nil, "", fmt.Errorf("--runtime %s: %w", fl, err)
		}
		if path == "" {
			return nil, "", fmt.Errorf("--runtime %s: no path after '='", fl)
		}
		if prev, dup := explicit[p.String()]; dup && prev != path {
			return nil, "", fmt.Errorf("--runtime: %s is given twice (%s and %s)", p, prev, path)
		}
		explicit[p.String()] = path
	}
	return explicit, bare, nil
}

// readRuntime reads a runtime binary and checks it is a static ELF of p.
func readRuntime(p v1.Platform, path, origin string) (Runtime, error) {
	if _, err := checkStaticELF(path, p.Architecture); err != nil {
		return Runtime{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Runtime{}, err
	}
	return Runtime{Platform: p, Binary: b, Origin: origin}, nil
}

// checkStaticELF checks that path is a statically linked Linux ELF
// executable and returns its GOARCH. If wantArch is set, the binary must be
// of that architecture.
func checkStaticELF(path, wantArch string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return "", fmt.Errorf("not an ELF executable (%v); the runtime must be a Linux binary built with GOOS=linux", err)
		}
		return "", err
	}
	defer f.Close()
	arch := ""
	for a, m := range elfMachines {
		if m.class == f.Class && m.machine == f.Machine {
			arch = a
		}
	}
	if arch == "" {
		return "", fmt.Errorf("ELF machine %s (%s) is not a supported architecture", f.Machine, f.Class)
	}
	if f.Machine == elf.EM_PPC64 && f.Data != elf.ELFDATA2LSB {
		return "", errors.New("big-endian ppc64 is not supported (want ppc64le)")
	}
	if wantArch != "" && arch != wantArch {
		return arch, fmt.Errorf("is a linux/%s binary, not linux/%s", arch, wantArch)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return arch, fmt.Errorf("ELF type %s is not an executable", f.Type)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			interp, _ := io.ReadAll(io.LimitReader(prog.Open(), 256))
			return arch, fmt.Errorf("is dynamically linked (interpreter %s) and cannot run in a FROM scratch image: build it with CGO_ENABLED=0", strings.TrimRight(string(interp), "\x00"))
		}
	}
	return arch, nil
}

// goBuilder builds the runtime from the module source.
type goBuilder struct {
	f        *RuntimeFinder
	goBin    string
	root     string
	source   string // says where root is from, for the log and origin
	version  string
	srcHash  string
	cacheDir string
}

func (f *RuntimeFinder) newBuilder(ctx context.Context) (*goBuilder, error) {
	look := f.LookPath
	if look == nil {
		look = exec.LookPath
	}
	goBin, err := look("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is not on PATH")
	}
	source := "the source at "
	root, err := findModuleRoot(f.WorkDir)
	if err != nil {
		var modErr error
		if root, modErr = f.moduleCacheSource(ctx, goBin); modErr != nil {
			return nil, fmt.Errorf("%w; %w", err, modErr)
		}
		source = "the module cache copy "
	}
	b := &goBuilder{f: f, goBin: goBin, root: root, source: source + root, cacheDir: f.CacheDir}
	if b.cacheDir == "" && f.CacheDirFunc != nil {
		b.cacheDir = f.CacheDirFunc()
	}
	out, err := f.run(ctx, proc.Command{Dir: root, Env: b.env("", ""), Name: goBin, Args: []string{"version"}})
	if err != nil {
		return nil, fmt.Errorf("go version: %w", err)
	}
	b.version = strings.TrimSpace(string(out))
	if b.srcHash, err = hashSources(root); err != nil {
		return nil, fmt.Errorf("hash module source in %s: %w", root, err)
	}
	return b, nil
}

// moduleCacheSource downloads the modelci module at the running binary's
// own version into the module cache (go mod download, which honours
// GOPROXY, GONOSUMDB and the rest of the caller's go environment) and
// returns the directory of its source there. A development build has no
// version to download.
func (f *RuntimeFinder) moduleCacheSource(ctx context.Context, goBin string) (string, error) {
	read := f.BuildInfo
	if read == nil {
		read = debug.ReadBuildInfo
	}
	bi, ok := read()
	if !ok || bi == nil {
		return "", errors.New("this modelci binary has no build information to find its module version")
	}
	if bi.Main.Path != ModulePath {
		return "", fmt.Errorf("this binary is not built from the %s module (main module %q)", ModulePath, bi.Main.Path)
	}
	version := bi.Main.Version
	if version == "" || version == "(devel)" || strings.HasSuffix(version, "+dirty") {
		return "", fmt.Errorf("this modelci is a development build (version %q), so there is no released source to build the runtime from", version)
	}
	// Outside any module, so the caller's go.mod is neither read nor
	// changed.
	tmp, err := os.MkdirTemp("", "modelci-download-*")
	if err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	defer os.RemoveAll(tmp)
	env := (&goBuilder{f: f}).env("", "")
	mod := ModulePath + "@" + version
	out, err := f.run(ctx, proc.Command{Dir: tmp, Env: env, Name: goBin, Args: []string{"mod", "download", "-json", mod}})
	var info struct {
		Dir   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory in its output %.200q", mod, out)
	}
	if fi, err := os.Stat(filepath.Join(info.Dir, filepath.FromSlash(RuntimePackage))); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("the module %s in %s has no %s", mod, info.Dir, RuntimePackage)
	}
	return info.Dir, nil
}

func (f *RuntimeFinder) run(ctx context.Context, c proc.Command) ([]byte, error) {
	if f.Run != nil {
		return f.Run(ctx, c)
	}
	return proc.Exec(ctx, c)
}

func (f *RuntimeFinder) logf(format string, args ...any) {
	if f.Logf != nil {
		f.Logf(format, args...)
	}
}

// GoBuildFlags are the flags that make the runtime build reproducible: the
// same source and toolchain give the same bytes wherever the source lives.
var GoBuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// env is the environment of go build: the caller's, with every setting that
// changes the output pinned.
func (b *goBuilder) env(goos, goarch string) []string {
	pinned := map[string]string{
		"CGO_ENABLED": "0",
		"GOFLAGS":     "",
		"GOWORK":      "off",
		"GOAMD64":     "v1",
		"GOARM64":     "v8.0",
		"GO386":       "sse2",
		"GOPPC64":     "power8",
		"GORISCV64":   "rva20u64",
	}
	if goos != "" {
		pinned["GOOS"] = goos
		pinned["GOARCH"] = goarch
	}
	var env []string
	for _, kv := range b.f.Environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[k]; ok || k == "GOOS" || k == "GOARCH" || k == "GOARM" {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(pinned))
	for k := range pinned {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+pinned[k])
	}
	return env
}

func (b *goBuilder) build(ctx context.Context, p v1.Platform) (Runtime, error) {
	env := b.env(p.OS, p.Architecture)
	if p.Architecture == "arm" {
		variant := strings.TrimPrefix(p.Variant, "v")
		if variant == "" {
			variant = "7"
		}
		env = append(env, "GOARM="+variant)
	}
	key := sha256.New()
	fmt.Fprintf(key, "%s\n%s\n%s\n", b.version, strings.Join(GoBuildFlags, " "), b.srcHash)
	sum := hex.EncodeToString(key.Sum(nil))[:24]
	origin := fmt.Sprintf("go build %s of %s (%s, %s)", RuntimePackage, b.source, p, b.version)
	var cached string
	if b.cacheDir != "" {
		cached = filepath.Join(b.cacheDir, sum, platformDirName(p), RuntimeBinary)
		if rt, err := readRuntime(p, cached, origin+", cached"); err == nil {
			b.f.logf("runtime %s: cached build %s", p, cached)
			return rt, nil
		}
	}
	tmpDir, err := os.MkdirTemp("", "modelci-runtime-*")
	if err != nil {
		return Runtime{}, fmt.Errorf("build runtime for %s: %w", p, err)
	}
	defer os.RemoveAll(tmpDir)
	out := filepath.Join(tmpDir, RuntimeBinary)
	b.f.logf("runtime %s: building %s of %s with %s", p, RuntimePackage, b.source, b.version)
	args := append([]string{"build"}, GoBuildFlags...)
	args = append(args, "-o", out, RuntimePackage)
	if _, err := b.f.run(ctx, proc.Command{Dir: b.root, Env: env, Name: b.goBin, Args: args}); err != nil {
		return Runtime{}, fmt.Errorf("build runtime for %s in %s: %w", p, b.root, err)
	}
	rt, err := readRuntime(p, out, origin)
	if err != nil {
		return Runtime{}, fmt.Errorf("built runtime for %s: %w", p, err)
	}
	if cached != "" {
		if err := storeCached(cached, rt.Binary); err != nil {
			b.f.logf("runtime %s: not cached: %v", p, err)
		}
		pruneCache(b.cacheDir, sum, keepCached)
	}
	return rt, nil
}

// keepCached is how many source versions the runtime cache keeps (each
// with a binary per platform).
const keepCached = 4

// pruneCache removes all but the newest keep entries of the runtime cache,
// never the entry just written. Only directories named like cache keys are
// touched.
func pruneCache(dir, current string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		mod  int64
	}
	var list []entry
	for _, e := range entries {
		if !e.IsDir() || len(e.Name()) != 24 || e.Name() == current || strings.Trim(e.Name(), "0123456789abcdef") != "" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		list = append(list, entry{e.Name(), info.ModTime().UnixNano()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].mod > list[j].mod })
	for i, e := range list {
		if i >= keep-1 {
			_ = os.RemoveAll(filepath.Join(dir, e.name))
		}
	}
}

// storeCached writes a built runtime into the cache atomically, so a
// concurrent or interrupted build never leaves a partial binary there.
func storeCached(path string, b []byte) error {
	// The cache directories are private to the user.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o755)
}

// findModuleRoot walks up from dir to the root of the modelci module: a
// go.mod declaring ModulePath next to the runtime's package.
func findModuleRoot(dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if modulePathOf(filepath.Join(d, "go.mod")) == ModulePath {
			if fi, err := os.Stat(filepath.Join(d, filepath.FromSlash(RuntimePackage))); err == nil && fi.IsDir() {
				return d, nil
			}
			return "", fmt.Errorf("the module at %s has no %s", d, RuntimePackage)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("the %s module source is not at or above %s", ModulePath, dir)
		}
	}
}

func modulePathOf(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// hashSources hashes the files that can change the runtime build: go.mod,
// go.sum and every non-test .go file of the module, by relative path.
func hashSources(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		isGo := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isGo && rel != "go.mod" && rel != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		fmt.Fprintf(h, "%s %x\n", filepath.ToSlash(rel), s)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
