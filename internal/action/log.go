package action

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/modelci/modelci/internal/workflow"
)

// logger is the job log of a platform: GitHub Actions' workflow commands
// (annotations, groups, masks), or plain lines elsewhere, with GitLab's
// collapsible sections.
type logger interface {
	Infof(format string, args ...any)
	Noticef(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
	// WarningTitled and ErrorTitled are annotations with a title where the
	// platform shows one.
	WarningTitled(title, format string, args ...any)
	ErrorTitled(title, format string, args ...any)
	Group(name string)
	EndGroup()
	// AddMask hides a secret in the rest of the log where the platform
	// can (GitHub's ::add-mask::); elsewhere it does nothing, and secrets
	// are simply never printed.
	AddMask(secret string)
	// Err is the first error writing the log, nil if none.
	Err() error
}

// On GitHub Actions the logger is *workflow.Commands.
var _ logger = (*workflow.Commands)(nil)

// plainLog writes plain lines: "warning: …", "error: …". With sections it
// wraps groups in GitLab's collapsible sections
// (https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections).
type plainLog struct {
	w        io.Writer
	sections bool
	now      func() time.Time
	open     []string
	n        int
	err      error
}

// printf writes to the log, keeping the first error for Err.
func (p *plainLog) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *plainLog) line(prefix, f string, args ...any) {
	p.printf(prefix+f+"\n", args...)
}

func (p *plainLog) Err() error { return p.err }

func (p *plainLog) Infof(f string, args ...any)    { p.line("", f, args...) }
func (p *plainLog) Noticef(f string, args ...any)  { p.line("notice: ", f, args...) }
func (p *plainLog) Warningf(f string, args ...any) { p.line("warning: ", f, args...) }
func (p *plainLog) Errorf(f string, args ...any)   { p.line("error: ", f, args...) }
func (p *plainLog) WarningTitled(_, f string, args ...any) {
	p.line("warning: ", f, args...)
}
func (p *plainLog) ErrorTitled(_, f string, args ...any) { p.line("error: ", f, args...) }
func (p *plainLog) AddMask(string)                       {}

func (p *plainLog) Group(name string) {
	if !p.sections {
		p.printf("==> %s\n", name)
		return
	}
	p.n++
	id := fmt.Sprintf("modelci_%d_%s", p.n, sectionName(name))
	p.open = append(p.open, id)
	p.printf("\x1b[0Ksection_start:%d:%s\r\x1b[0K%s\n", p.now().Unix(), id, name)
}

func (p *plainLog) EndGroup() {
	if !p.sections || len(p.open) == 0 {
		return
	}
	id := p.open[len(p.open)-1]
	p.open = p.open[:len(p.open)-1]
	p.printf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", p.now().Unix(), id)
}

// sectionName keeps the letters, digits, '_', '.' and '-' GitLab allows in
// a section name.
func sectionName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '/' || r == ':':
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}
