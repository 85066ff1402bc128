package action

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/github"
)

// sink is where a platform keeps the report and the outputs: GitHub's job
// summary and step outputs, or elsewhere the job log and an artifact file.
type sink interface {
	// report hands over the notes (why there is no comment, …) and the
	// report.
	report(notes []string, markdown string) error
	setOutput(name, value string) error
}

func (r *runner) sink() sink {
	if r.platform == ci.GitHub {
		return githubSink{r: r}
	}
	return fileSink{r: r}
}

// notesMarkdown renders the notes as GitHub-flavoured alerts, which
// GitLab renders too.
func notesMarkdown(notes []string) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString("> [!NOTE]\n> " + n + "\n\n")
	}
	return b.String()
}

// githubSink writes GITHUB_STEP_SUMMARY and GITHUB_OUTPUT through
// internal/workflow.
type githubSink struct{ r *runner }

// maxSummaryBytes keeps the job summary under GitHub's limit of 1 MiB per
// step, with room to spare.
const maxSummaryBytes = 1000 * 1024

func (s githubSink) report(notes []string, markdown string) error {
	r := s.r
	text := notesMarkdown(notes) + markdown
	if r.getenv("GITHUB_STEP_SUMMARY") == "" {
		r.log.Infof("GITHUB_STEP_SUMMARY is not set: no job summary written")
		return nil
	}
	if len(text) > maxSummaryBytes {
		text = github.Truncate(text, github.Marker(r.cfg.Name), maxSummaryBytes, "> [!NOTE]\n> This report was cut to fit GitHub's 1 MiB job summary limit; the report file has all of it.")
		r.log.Warningf("the report is larger than GitHub's 1 MiB job summary limit and was cut there; %s has all of it", r.relToWorkspace(r.out.ReportPath))
	}
	return r.a.AddStepSummary(text)
}

func (s githubSink) setOutput(name, value string) error {
	r := s.r
	if r.getenv("GITHUB_OUTPUT") == "" {
		r.log.Infof("GITHUB_OUTPUT is not set: output %s not written", name)
		return nil
	}
	return r.a.SetOutput(name, value)
}

// fileSink prints the report into the job log and writes it, with the
// notes, to modelci-report.md in the working directory, for the CI to keep
// as an artifact. There are no step outputs outside GitHub Actions: the
// exit code and report.json carry the outcome.
type fileSink struct{ r *runner }

func (s fileSink) report(notes []string, markdown string) error {
	r := s.r
	text := notesMarkdown(notes) + markdown
	path := filepath.Join(r.workDir, ReportFile)
	if err := atomicfile.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write the report artifact: %w", err)
	}
	r.out.ArtifactPath = path
	r.log.Group("modelci report")
	r.log.Infof("%s", strings.TrimRight(text, "\n"))
	r.log.EndGroup()
	r.log.Infof("report written to %s (keep it as a job artifact)", r.relToWorkspace(path))
	return nil
}

func (fileSink) setOutput(string, string) error { return nil }
