package action

import (
	"github.com/modelci/modelci/internal/inputfile"
)

// ReadEvent reads the CI event payload (GITHUB_EVENT_PATH): a regular file
// of at most inputfile.MaxEvent bytes, so /dev/zero or a FIFO there fails at
// once instead of filling memory or blocking.
func ReadEvent(path string) ([]byte, error) {
	return inputfile.ReadFile(path, inputfile.MaxEvent)
}
