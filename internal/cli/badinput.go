package cli

import (
	"errors"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/inputfile"
)

// badInput reports errors about the files modelci was pointed at that the
// user must fix (exit 2): a special file where a regular file is expected,
// a file or data stream above its size limit, an output directory that
// modelci refuses to replace.
func badInput(err error) bool {
	return errors.Is(err, inputfile.ErrNotRegular) || errors.Is(err, inputfile.ErrTooLarge) ||
		errors.Is(err, atomicfile.ErrRefused)
}
