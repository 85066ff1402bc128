package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// workersValue is the --workers flag: a parallelism of 0 (the number of
// CPUs) or more. A negative count is a usage error, found when the command
// line is parsed.
type workersValue int

func (v *workersValue) String() string { return strconv.Itoa(int(*v)) }
func (v *workersValue) Type() string   { return "int" }
func (v *workersValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("want 0 (the number of CPUs) or a positive number of workers, got %q", s)
	}
	*v = workersValue(n)
	return nil
}

// workersFlag adds --workers to cmd, bound to p.
func workersFlag(cmd *cobra.Command, p *int) {
	cmd.Flags().Var((*workersValue)(p), "workers", "parallelism (0 = number of CPUs); results do not depend on it")
}
