package config

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

var update = flag.Bool("update", false, "rewrite the README's generated configuration reference")

const readme = "../../README.md"

// TestReadmeReference: the README's configuration reference is the one
// NewReference renders. -update rewrites it.
func TestReadmeReference(t *testing.T) {
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, ReferenceBegin), strings.Index(s, ReferenceEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no section between %q and %q", readme, ReferenceBegin, ReferenceEnd)
	}
	want := ReferenceBegin + "\n" + NewReference().Markdown() + ReferenceEnd
	got := s[i : j+len(ReferenceEnd)]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(readme, []byte(s[:i]+want+s[j+len(ReferenceEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the README's configuration reference differs from config.NewReference; run go test ./internal/config -run TestReadmeReference -update")
}

// TestReferenceKeysMatchTheDecoder: the reference lists exactly the keys
// the strict decoder accepts.
func TestReferenceKeysMatchTheDecoder(t *testing.T) {
	t.Parallel()
	var accepted []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Size]() && ft != reflect.TypeFor[Amount]():
				walk(key+".", ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(key+"[].", ft.Elem())
			default:
				accepted = append(accepted, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	var documented []string
	for _, s := range NewReference().Keys {
		documented = append(documented, s.Name)
	}
	sort.Strings(accepted)
	sort.Strings(documented)
	if !reflect.DeepEqual(accepted, documented) {
		t.Errorf("the decoder accepts\n%q\nthe reference documents\n%q", accepted, documented)
	}
}

// TestReferenceInputsMatchActionYML: the reference's inputs are action.yml's,
// with the same defaults.
func TestReferenceInputsMatchActionYML(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs yaml.MapSlice `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, in := range action.Inputs {
		def := ""
		if m, ok := in.Value.(map[string]any); ok && m["default"] != nil {
			def = strings.TrimSpace(toString(m["default"]))
		}
		got = append(got, in.Key.(string)+"="+def)
	}
	for _, s := range NewReference().Inputs {
		want = append(want, s.Name+"="+strings.Trim(s.Default, "`"))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("action.yml's inputs\n%q\nthe reference's\n%q", got, want)
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// TestReferenceEnvCoversTheCode: every MODELCI_* variable in the code is in
// the reference (or is an action input's, or the runtime's own, which
// modelci-serve --help lists), and every variable in the reference is read
// somewhere.
func TestReferenceEnvCoversTheCode(t *testing.T) {
	t.Parallel()
	ref := NewReference()
	known := map[string]bool{}
	for _, s := range ref.Env {
		known[s.Name] = true
	}
	for _, s := range ref.Inputs {
		known["MODELCI_"+strings.ToUpper(s.Name)] = true
	}
	runtime, err := os.ReadFile("../serve/config.go")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`"(MODELCI_[A-Z0-9_]*[A-Z0-9])"`)
	seen := map[string]bool{}
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range name.FindAllStringSubmatch(string(b), -1) {
				v := m[1]
				seen[v] = true
				if !known[v] && !strings.Contains(string(runtime), `"`+v+`"`) {
					t.Errorf("%s reads %s, which the configuration reference does not document", path, v)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ref.Env {
		if !seen[s.Name] && s.Name != "MODELCI_<INPUT>" {
			t.Errorf("the reference documents %s, which no code reads", s.Name)
		}
	}
}
