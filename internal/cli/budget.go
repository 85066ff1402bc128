package cli

import (
	"strings"

	"github.com/modelci/modelci/internal/config"
)

// EnvMemoryBudget names the environment variable that bounds a fit's
// working memory: a size such as 8GiB or 512MiB (binary units), or off.
const EnvMemoryBudget = "MODELCI_MEMORY_BUDGET"

// memoryBudget reads MODELCI_MEMORY_BUDGET for train.Options.MemoryBudget:
// 0 (unset: the default budget), -1 (off) or a size in bytes.
func memoryBudget(env Env) (int64, error) {
	v := ""
	if env.Getenv != nil {
		v = strings.TrimSpace(env.Getenv(EnvMemoryBudget))
	}
	switch strings.ToLower(v) {
	case "":
		return 0, nil
	case "off", "none", "unlimited":
		return -1, nil
	}
	// The same size rule as modelci.yaml's data.max_bytes.
	n, err := config.ParseSize(v)
	if err != nil || n <= 0 {
		return 0, usageError("%s=%q: want a size such as 8GiB or 512MiB, or off", EnvMemoryBudget, v)
	}
	return n, nil
}
