package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// goDecl returns the value of the package-level const or var name
// declared with a literal value in the Go source of the main module's
// package dir (relative to the repository root), skipping test files.
// This module does not import modelci, so it reads the declarations the
// Dockerfile must agree with (image.GoBuildFlags, entrypoint.Command…)
// from the source.
func goDecl(dir, name string) (ast.Expr, error) {
	files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || (g.Tok != token.CONST && g.Tok != token.VAR) {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != name {
						continue
					}
					if i >= len(vs.Values) {
						return nil, fmt.Errorf("%s: %s has no value of its own", fset.Position(id.Pos()), name)
					}
					return vs.Values[i], nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no package-level declaration of %s in %s", name, dir)
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// goString returns a string constant or variable declared as a literal.
func goString(t *testing.T, dir, name string) string {
	t.Helper()
	e, err := goDecl(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := stringLit(e)
	if !ok {
		t.Fatalf("%s.%s is no longer a string literal; update %s", filepath.Base(dir), name, "lint/gosource_test.go")
	}
	return s
}

// goStrings returns a []string variable declared as a literal of string
// literals.
func goStrings(t *testing.T, dir, name string) []string {
	t.Helper()
	e, err := goDecl(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	bad := func() {
		t.Fatalf("%s.%s is no longer a []string{…} of string literals; update lint/gosource_test.go", filepath.Base(dir), name)
	}
	c, ok := e.(*ast.CompositeLit)
	if !ok {
		bad()
	}
	if at, ok := c.Type.(*ast.ArrayType); !ok || at.Len != nil || !isIdent(at.Elt, "string") {
		bad()
	}
	var out []string
	for _, elt := range c.Elts {
		s, ok := stringLit(elt)
		if !ok {
			bad()
		}
		out = append(out, s)
	}
	return out
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestGoSource checks the reader on declarations whose values are known.
func TestGoSource(t *testing.T) {
	t.Parallel()
	if got := goString(t, "internal/entrypoint", "DefaultCommand"); got != "run" {
		t.Errorf("entrypoint.DefaultCommand = %q, want run", got)
	}
	if got := goStrings(t, "internal/image", "GoBuildFlags"); !slices.Contains(got, "-trimpath") {
		t.Errorf("image.GoBuildFlags = %q, want -trimpath among them", got)
	}
	if _, err := goDecl("internal/image", "NoSuchDeclaration"); err == nil {
		t.Error("goDecl found a declaration that does not exist")
	}
	if _, err := goDecl("internal/image", "goBuilder"); err == nil {
		t.Error("goDecl took a type for a const or var")
	}
}
