package lint

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const internalPrefix = "github.com/modelci/modelci/internal/"

// documentedPackages reads the package table of docs/architecture.md:
// package name → the modelci packages it says the package uses.
func documentedPackages(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		row := sc.Text()
		if !strings.HasPrefix(row, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(row, "|"), "|")
		if len(cells) != 3 {
			continue // another table
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := out[name]; dup {
			t.Errorf("docs/architecture.md:%d: package %s listed twice", line, name)
		}
		uses := strings.Fields(cells[2])
		slices.Sort(uses)
		out[name] = uses
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("docs/architecture.md has no package table (rows | `name` | job | uses |)")
	}
	return out
}

// internalImports lists the modelci packages (by their directory under
// internal/) that the non-test Go files of internal/name import.
func internalImports(t *testing.T, name string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "internal", name, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if rest, ok := strings.CutPrefix(p, internalPrefix); ok {
				seen[strings.SplitN(rest, "/", 2)[0]] = true
			}
		}
	}
	var out []string
	for p := range seen {
		if p != name {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// TestArchitectureDocMatchesCode: docs/architecture.md lists every package
// under internal/ and no other, each with exactly the modelci packages it
// imports.
func TestArchitectureDocMatchesCode(t *testing.T) {
	t.Parallel()
	doc := documentedPackages(t)
	entries, err := os.ReadDir(filepath.Join(repoRoot, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, e := range entries {
		if e.IsDir() {
			code = append(code, e.Name())
		}
	}
	for _, name := range code {
		uses, ok := doc[name]
		if !ok {
			t.Errorf("internal/%s is not in the package table of docs/architecture.md", name)
			continue
		}
		if got := internalImports(t, name); !slices.Equal(got, uses) {
			t.Errorf("docs/architecture.md says %s uses %v; its code imports %v", name, uses, got)
		}
	}
	for name := range doc {
		if !slices.Contains(code, name) {
			t.Errorf("docs/architecture.md lists %s, which is not a package under internal/", name)
		}
	}
}
