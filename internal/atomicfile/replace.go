package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/inputfile"
	"github.com/modelci/modelci/internal/model"
)

// ErrRefused means an existing directory is not one modelci may replace:
// it is not empty and holds something other than the artifact being
// written. Nothing was changed on disk.
var ErrRefused = exitcode.NewUsage("refusing to replace the directory")

// Kind is the kind of artifact directory ReplaceDir writes; an existing
// directory is replaced only if it is empty or holds an artifact of the
// same kind and nothing else.
type Kind int

const (
	// ModelDir is a model directory: model.json (with schema_version and
	// checksum) and the files its "files" lists.
	ModelDir Kind = iota
	// OCILayout is an OCI image layout: oci-layout (with
	// imageLayoutVersion), index.json and blobs/.
	OCILayout
)

// String names the kind for messages.
func (k Kind) String() string {
	switch k {
	case ModelDir:
		return "a modelci model directory"
	case OCILayout:
		return "an OCI image layout"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Replaceable is the rule for both model directories and OCI layouts: it
// returns nil if dir does not exist, is an empty directory, or holds an
// artifact of kind k and nothing else (a model directory holds model.json
// and the files it lists; a layout holds oci-layout, index.json and
// blobs). Otherwise it returns an error wrapping ErrRefused that names
// what is in the way. It only reads.
func Replaceable(dir string, k Kind) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("write %s: %w: it exists and is not a directory", dir, ErrRefused)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	ours, why := k.members(dir)
	var foreign []string
	for _, e := range entries {
		if !ours[e.Name()] {
			foreign = append(foreign, strconv.Quote(e.Name()))
		}
	}
	if ours != nil && len(foreign) == 0 {
		return nil
	}
	sort.Strings(foreign)
	if len(foreign) > 5 {
		foreign = append(foreign[:5], fmt.Sprintf("and %d more", len(foreign)-5))
	}
	what := why
	if ours != nil {
		what = "it also holds " + strings.Join(foreign, ", ")
	}
	return fmt.Errorf("write %s: %w: it is not empty and not %s (%s); choose a new or empty directory, or remove this one", dir, ErrRefused, k, what)
}

// members returns the names an artifact of kind k in dir may hold, or nil
// and the reason when dir does not hold one.
func (k Kind) members(dir string) (map[string]bool, string) {
	switch k {
	case ModelDir:
		b, err := inputfile.ReadFile(filepath.Join(dir, model.FileModel), inputfile.MaxJSON)
		if err != nil {
			return nil, "no readable " + model.FileModel
		}
		var probe struct {
			SchemaVersion *int              `json:"schema_version"`
			Checksum      *string           `json:"checksum"`
			Files         map[string]string `json:"files"`
		}
		if json.Unmarshal(b, &probe) != nil || probe.SchemaVersion == nil || probe.Checksum == nil {
			return nil, model.FileModel + " is not a modelci model"
		}
		names := map[string]bool{model.FileModel: true}
		for name := range probe.Files {
			names[name] = true
		}
		return names, ""
	case OCILayout:
		b, err := inputfile.ReadFile(filepath.Join(dir, "oci-layout"), 1<<20)
		if err != nil {
			return nil, "no readable oci-layout file"
		}
		var probe struct {
			Version string `json:"imageLayoutVersion"`
		}
		if json.Unmarshal(b, &probe) != nil || probe.Version == "" {
			return nil, "oci-layout has no imageLayoutVersion"
		}
		return map[string]bool{"oci-layout": true, "index.json": true, "blobs": true}, ""
	}
	return nil, "unknown kind"
}
