package config

import (
	"fmt"
	"strings"
)

// Setting is one documented setting: a modelci.yaml key (dotted, "[]"
// for the elements of a list), an environment variable or an action input.
type Setting struct {
	Name    string
	Default string
	Doc     string
}

// Reference is the configuration reference: every modelci.yaml key, every
// MODELCI_* variable that modelci reads, and every input of the GitHub
// Action. The README's reference section is rendered from it
// (ReferenceMarkdown), and tests check it against the config structs, the
// code and action.yml, so the three cannot drift apart.
type Reference struct {
	Keys   []Setting
	Env    []Setting
	Inputs []Setting
}

// NewReference returns the reference.
func NewReference() Reference {
	return Reference{
		Keys: []Setting{
			{"name", "the config file's directory name", "the model's name (the report marker, the image's annotations, the V2 model name)"},
			{"task", "implied by `model.type`", "`regression` or `classification`; checked against `model.type`"},
			{"data.path", "", "the CSV file (`.csv` or `.csv.gz`), relative to the config; required"},
			{"data.target", "", "the target column; required"},
			{"data.features", "every other column", "the feature columns, in order"},
			{"data.categorical", "inferred", "columns read as categories even if they look numeric"},
			{"data.missing", "`mean`; `keep` (gradient_boosting)", "missing values: `mean`, `median`, `most_frequent`, `drop` or `error`; gradient_boosting also `keep` (each split sends them to the side that gains most)"},
			{"data.delimiter", "sniffed among `,` `;` tab `|`", "the field delimiter"},
			{"data.decimal", "`.`", "the decimal separator, `.` or `,`"},
			{"data.exclude", "none", "columns that are never features (IDs) when `data.features` is not given"},
			{"data.dates", "none", "ISO date columns, turned into year, month, day of week and day of year"},
			{"data.max_categories", fmt.Sprint(DefaultMaxCategories), "the most one-hot levels of a categorical feature; the rest become `(other)`"},
			{"data.max_bytes", "`64GiB`", "the most (decompressed) bytes read"},
			{"data.max_rows", "100000000", "the most rows read"},
			{"data.allow_fifo", "`false`", "allow a FIFO or other non-regular file as data"},
			{"split.test_size", fmt.Sprint(DefaultTestSize), "the test split: a fraction in (0, 1) or a whole number of rows"},
			{"split.seed", fmt.Sprint(DefaultSeed), "the split's seed (`train_test_split(random_state=…)`)"},
			{"model.type", "`linear`", "`linear`, `ridge`, `logistic` or `gradient_boosting`"},
			{"model.solver", "`qr` (linear, ridge), `lbfgs` (logistic)", "`qr`, `normal` or `gd`; logistic: `lbfgs` or `gd`; none for gradient_boosting"},
			{"model.alpha", fmt.Sprint(DefaultAlpha), "ridge: the L2 penalty; logistic: 1/C"},
			{"model.learning_rate", fmt.Sprint(DefaultLearningRate), "gradient descent's step; gradient_boosting's shrinkage"},
			{"model.max_iter", fmt.Sprintf("%d (gd), %d (lbfgs), %d (gradient_boosting)", DefaultMaxIterGD, DefaultMaxIterLBFGS, DefaultMaxIterBoosting), "the most iterations (gradient_boosting: boosting rounds)"},
			{"model.tol", fmt.Sprintf("%g; %g (gradient_boosting)", DefaultTolGD, DefaultTolBoosting), "the convergence tolerance of gd and lbfgs; gradient_boosting: the least improvement early stopping counts"},
			{"model.max_leaf_nodes", fmt.Sprint(DefaultMaxLeafNodes), "gradient_boosting: the most leaves per tree, ≥ 2"},
			{"model.max_depth", "none", "gradient_boosting: the deepest a tree grows"},
			{"model.min_samples_leaf", fmt.Sprint(DefaultMinSamplesLeaf), "gradient_boosting: the fewest training rows in a leaf"},
			{"model.l2_regularization", "0", "gradient_boosting: the L2 penalty on leaf values"},
			{"model.max_bins", fmt.Sprint(DefaultMaxBins), "gradient_boosting: bins per feature, 2 to 255, plus one for missing values"},
			{"model.early_stopping", "`auto`", fmt.Sprintf("gradient_boosting: `auto` (on above %d training rows), `true` or `false`", EarlyStoppingRows)},
			{"model.validation_fraction", fmt.Sprint(DefaultValidationFraction), "gradient_boosting: the share of training rows held out for early stopping"},
			{"model.n_iter_no_change", fmt.Sprint(DefaultNIterNoChange), "gradient_boosting: rounds without improvement before early stopping"},
			{"model.seed", "`split.seed`", "gradient_boosting: seeds the binning subsample and the validation split"},
			{"model.fit_intercept", "`true`", "fit an intercept"},
			{"model.standardize", "`true`", "scale numeric features to mean 0 and standard deviation 1 on the training rows"},
			{"metrics", "all of the task's metrics", "the metrics to report"},
			{"gates[].metric", "", "the gated metric; required"},
			{"gates[].min", "none", "the challenger's value must be at least this"},
			{"gates[].max", "none", "the challenger's value must be at most this"},
			{"gates[].max_increase", "none", "the most the metric may rise from the champion: absolute (`0.01`) or relative (`2%`)"},
			{"gates[].max_decrease", "none", "the most the metric may fall from the champion"},
			{"gates[].only_if_significant", "`false`", "a change gate fails only when the paired bootstrap says the change is real"},
			{"baseline.ref", "`auto`", "the champion: `auto`, `none`, `registry`, `git:<ref>` or a model directory"},
			{"baseline.tag", "`latest`", "the image tag of the registry champion"},
			{"baseline.bootstrap", "1000", "paired bootstrap resamples"},
			{"baseline.confidence", "0.95", "the intervals' confidence level"},
			{"baseline.seed", fmt.Sprint(DefaultSeed), "the bootstrap's seed"},
			{"report.precision", "4", "significant digits in the report"},
			{"report.chart", "`true`", "the Mermaid chart"},
			{"image.repository", "none", "the image repository, e.g. `ghcr.io/acme/house-prices`"},
			{"image.tags", "the commit's short sha and `latest`", "the tags to push"},
			{"image.platforms", "`linux/amd64`, `linux/arm64` (a local run: the host's)", "the image's platforms"},
			{"image.labels", "none", "extra OCI labels"},
			{"image.licenses", "none", "`org.opencontainers.image.licenses`"},
			{"image.push", "`auto`", "`auto` (pushes to the default branch and tags), `true` or `false`; never from a pull request or a fork"},
		},
		Env: []Setting{
			{"MODELCI_MEMORY_BUDGET", "`4GiB`", "the most memory a fit may plan for; a larger problem is refused before it starts"},
			{"MODELCI_RUNTIME_DIR", "`/usr/local/lib/modelci/runtime`", "where prebuilt serving runtimes are found (`linux-<arch>/modelci-serve`)"},
			{"MODELCI_EVENT", "detected", "a generic CI's event: `pull_request`, `push` or another name (`--event`)"},
			{"MODELCI_BASE_REF", "detected", "a generic CI's pull-request base branch (`--base-ref`)"},
			{"MODELCI_PR_NUMBER", "detected", "a generic CI's pull-request number (`--pr-number`)"},
			{"MODELCI_REPOSITORY", "detected", "a generic CI's `owner/name` (`--repo`)"},
			{"MODELCI_DEFAULT_BRANCH", "detected", "a generic CI's default branch (`--default-branch`)"},
			{"MODELCI_GITHUB_TOKEN", "`GITHUB_TOKEN`", "the GitHub token outside GitHub Actions"},
			{"MODELCI_GITHUB_AUTHOR", "the token's account", "the login whose comment is the sticky one"},
			{"MODELCI_GITLAB_TOKEN", "none", "a GitLab token with `api` scope for the MR note"},
			{"MODELCI_GITLAB_API_URL", "`CI_API_V4_URL`", "the GitLab API"},
			{"MODELCI_<INPUT>", "", "every action input below, outside GitHub Actions (`MODELCI_CONFIG`, `MODELCI_BASELINE`, …)"},
		},
		Inputs: []Setting{
			{"config", "`modelci.yaml`", "path of the config, relative to `working_directory`"},
			{"github_token", "`${{ github.token }}`", "for the PR comment"},
			{"comment", "`auto`", "`auto` (one sticky comment per model, edited in place), `always` (a new comment when the report changes), `never`, `update-only`"},
			{"baseline", "`auto`", "`auto`, `none`, `git:<ref>`, `registry`, or a model directory"},
			{"fail_on_gate", "`true`", "exit 3 when a quality gate fails"},
			{"push", "`auto`", "`auto` (defer to `image.push`, itself `auto`: push on pushes to the default branch and of tags), `true` (every build that is not a pull request), `false`"},
			{"image", "", "image repository; overrides `image.repository`"},
			{"registry_username", "`${{ github.actor }}`", ""},
			{"registry_password", "`${{ github.token }}`", "pushes to ghcr.io with `packages: write`"},
			{"working_directory", "`.`", "the project directory"},
			{"allow_pull_request_target", "`false`", "see Security"},
		},
	}
}

// Markers delimit the generated section in the README.
const (
	ReferenceBegin = "<!-- BEGIN generated by internal/config (go test ./internal/config -run TestReadmeReference -update) -->"
	ReferenceEnd   = "<!-- END generated -->"
)

// Markdown renders the reference as three tables.
func (r Reference) Markdown() string {
	var b strings.Builder
	table := func(head string, rows []Setting) {
		fmt.Fprintf(&b, "| %s | default | |\n|---|---|---|\n", head)
		for _, s := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, s.Default, s.Doc)
		}
	}
	b.WriteString("Every key of `modelci.yaml`:\n\n")
	table("key", r.Keys)
	b.WriteString("\nEnvironment variables (the runtime's own are listed by `modelci-serve --help`):\n\n")
	table("variable", r.Env)
	b.WriteString("\nInputs of the GitHub Action (`action.yml`):\n\n")
	table("input", r.Inputs)
	return b.String()
}
