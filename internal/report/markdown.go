package report

import (
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/revision"

	"fmt"
	"strconv"
	"strings"

	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/evaluate"
)

// build lays out the whole report.
func build(res *diff.Result, o Options) *doc {
	d := &doc{}
	p := o.Precision
	d.text(Marker(res.Name) + "\n")
	d.textf("## modelci · %s\n\n", text(res.Name))
	d.text(refsLine(res) + "\n\n")
	d.placeNotice()
	d.text(summary(res))
	if nc := res.NotComparable; nc != nil && len(nc.Changes) > 0 {
		t := newTable("column changes", "columns", "", "ll", "column", "change")
		for _, c := range nc.Changes {
			t.add(code(c.Name), columnChange(c))
		}
		d.table(t)
		d.text("\n")
	}
	if len(res.Warnings) > 0 {
		var b strings.Builder
		b.WriteString("> ⚠️ **Warnings**\n")
		for _, w := range res.Warnings {
			b.WriteString("> - " + text(w) + "\n")
		}
		b.WriteString("\n")
		d.text(b.String())
	}
	d.text(metricTable(res, p))
	d.text(gates(res, p))
	if !o.HideChart && res.Chart != nil {
		d.text(chart(res.Chart, p))
	}
	dataSection(d, res, p)
	driftSection(d, res, p)
	coefficientSection(d, res, p)
	fitSection(d, res, p)
	d.text(confusionSection(res))
	d.text(trainingSection(res, p))
	d.text("<sub>modelci · metrics on held-out test rows · `modelci diff --format json` has every figure</sub>\n")
	return d
}

func refsLine(res *diff.Result) string {
	chalRef := sideRef(res.Challenger.Ref, res.Challenger.SHA, "", "")
	switch {
	case chalRef == "":
		chalRef = "(working tree)"
	case res.Challenger.UncommittedChanges:
		// Trained from the working tree, not from the commit named.
		chalRef += " with **uncommitted changes**"
	}
	chal := "**Challenger** " + chalRef
	algo := fmt.Sprintf("%s %s", text(res.Challenger.Algorithm), text(res.Task))
	if res.Champion == nil {
		champ := "**Champion** none (first model)"
		if res.Baseline.Note != "" {
			champ = "**Champion** none: " + text(res.Baseline.Note)
		}
		return champ + " → " + chal + " · " + algo
	}
	c := res.Champion
	champRef := sideRef(c.Ref, c.SHA, c.Digest, res.Baseline.Spec)
	if champRef == "" {
		champRef = "(unknown)"
	}
	champ := "**Champion** " + champRef
	return champ + " → " + chal + " · " + algo
}

// sideRef names a model once: its ref (else fallback, the baseline spec),
// the short commit and the short digest, leaving out what another part
// already says. A registry reference by digest (repo@sha256:…) shows the
// repository and the digest once; a ref that is the commit itself (a
// PR's base sha, git:3f2c1e0) shows the short commit once.
func sideRef(ref, sha, digest, fallback string) string {
	if ref == "" {
		ref = fallback
	}
	if digest != "" {
		if repo, ok := strings.CutSuffix(ref, "@"+digest); ok {
			ref = repo
		}
		if ref == digest {
			ref = ""
		}
	}
	if sha != "" && (isCommitOf(ref, sha) || isCommitOf(strings.TrimPrefix(ref, "git:"), sha)) {
		ref = ""
	}
	var parts []string
	if ref != "" {
		parts = append(parts, code(ref))
	}
	if sha != "" {
		parts = append(parts, code(revision.Display(sha)))
	}
	if digest != "" {
		parts = append(parts, code(revision.Display(digest)))
	}
	return strings.Join(parts, " @ ")
}

// isCommitOf says ref is sha or an abbreviation of it (at least 4 hex
// digits, as git abbreviates).
func isCommitOf(ref, sha string) bool {
	if len(ref) < 4 || len(ref) > len(sha) {
		return false
	}
	for _, r := range ref {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return strings.EqualFold(sha[:len(ref)], ref)
}

func summary(res *diff.Result) string {
	switch {
	case res.Champion == nil:
		return fmt.Sprintf("No champion to compare with. Metrics of the challenger on its **%s** test rows.\n\n", count(res.Rows.Shared))
	case !res.Comparable:
		reason := "the models could not be scored on the same rows"
		if res.NotComparable != nil {
			reason = res.NotComparable.Reason
		}
		return "> ⚠️ **Not comparable:** " + text(reason) + ".\n> The champion's figures are its stored metrics on *its own* test rows, so the changes below compare numbers from different rows, and no interval is computed.\n\n"
	}
	s := fmt.Sprintf("Both models scored on the same **%s** test rows of the challenger's data. Change = challenger − champion.", count(res.Rows.Shared))
	if b := res.Bootstrap; b != nil {
		s += fmt.Sprintf(" Interval: paired bootstrap, %s resamples, seed %d; a change is significant when its %s interval excludes 0.", count(b.Resamples), b.Seed, res.ConfidenceLabel())
	}
	return s + "\n\n"
}

func columnChange(c evaluate.ColumnChange) string {
	switch c.Change {
	case "removed":
		return "removed: the champion needs it, the data lacks it"
	case "added":
		return "added: the challenger uses it, the champion does not"
	case "type":
		return fmt.Sprintf("type changed: %s → %s", text(c.Model), text(c.Data))
	}
	return text(c.Change)
}

func arrow(direction string) string {
	if direction == "lower" {
		return "↓"
	}
	return "↑"
}

func metricTable(res *diff.Result, p int) string {
	var b strings.Builder
	if res.Champion == nil {
		gated := map[string]bool{}
		for _, g := range res.Gates {
			if g.Status == diff.GatePassed {
				gated[g.Metric] = true
			}
		}
		b.WriteString("| metric | challenger | status |\n|:--|--:|:--|\n")
		for _, m := range res.Metrics {
			st := status(m)
			if st == "" && gated[m.Name] {
				st = "✅ gate passed"
			}
			if st == "" {
				st = "—"
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s |\n", code(m.Name), arrow(m.Direction), optNum(m.Challenger, p), st)
		}
		b.WriteString("\n")
		return b.String()
	}
	iv := "interval"
	if res.Bootstrap != nil {
		iv = res.ConfidenceLabel() + " interval"
	}
	fmt.Fprintf(&b, "| metric | champion | challenger | change | %s | status |\n|:--|--:|--:|--:|:-:|:--|\n", iv)
	for _, m := range res.Metrics {
		change := "—"
		if m.Change != nil {
			change = signed(*m.Change, p)
			if m.ChangePercent != nil {
				change += " (" + signed(*m.ChangePercent, p) + "%)"
			}
		}
		interval := "—"
		if m.Interval != nil {
			interval = "[" + num(m.Interval.Low, p) + ", " + num(m.Interval.High, p) + "]"
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s |\n", code(m.Name), arrow(m.Direction), optNum(m.Champion, p), optNum(m.Challenger, p), change, interval, status(m))
	}
	b.WriteString("\n")
	return b.String()
}

func optNum(v *float64, p int) string {
	if v == nil {
		return "—"
	}
	return num(*v, p)
}

func status(m diff.Metric) string {
	var s string
	switch m.Status {
	case diff.StatusBetter:
		s = "🟢 better"
	case diff.StatusWorse:
		s = "🔴 worse"
	case diff.StatusWithinNoise:
		s = "⚪ within noise"
	case diff.StatusUnchanged:
		s = "⚪ unchanged"
	case diff.StatusNotComparable:
		s = "⚠️ not comparable"
	case diff.StatusSkipped:
		s = "— " + text(m.Skipped)
	}
	if m.GateFailed {
		if s != "" {
			s += " · "
		}
		s += "❌ **gate failed**"
	}
	return s
}

func gates(res *diff.Result, p int) string {
	if len(res.Gates) == 0 {
		return "**Gates:** none configured (add `gates:` to modelci.yaml to fail the build on a regression).\n\n"
	}
	var b strings.Builder
	total, skipped := len(res.Gates), 0
	for _, g := range res.Gates {
		if g.Status == diff.GateSkipped {
			skipped++
		}
	}
	checked := total - skipped
	switch {
	case res.GatesFailed > 0:
		fmt.Fprintf(&b, "**Gates: ❌ %d of %d failed**", res.GatesFailed, checked)
	case checked == 0:
		b.WriteString("**Gates: ⏭️ none checked**")
	case checked == 1:
		b.WriteString("**Gates: ✅ passed**")
	default:
		fmt.Fprintf(&b, "**Gates: ✅ all %d passed**", checked)
	}
	if skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", skipped)
	}
	b.WriteString("\n\n")
	for _, g := range res.Gates {
		icon := map[string]string{diff.GatePassed: "✅", diff.GateFailed: "❌", diff.GateSkipped: "⏭️"}[g.Status]
		fmt.Fprintf(&b, "- %s %s", icon, gateRule(g, p))
		if g.Detail != "" {
			b.WriteString(" — " + text(g.Detail))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}

// gateRule describes a gate rule and the value it saw in words.
func gateRule(g diff.GateResult, p int) string {
	name := code(g.Metric)
	pct := strings.HasSuffix(g.Limit, "%")
	limit := text(g.Limit)
	var s string
	switch g.Rule {
	case diff.RuleMin:
		s = fmt.Sprintf("%s ≥ %s", name, limit)
	case diff.RuleMax:
		s = fmt.Sprintf("%s ≤ %s", name, limit)
	case diff.RuleMaxIncrease:
		s = fmt.Sprintf("%s rises by at most %s", name, limit)
	case diff.RuleMaxDecrease:
		s = fmt.Sprintf("%s falls by at most %s", name, limit)
	default:
		s = fmt.Sprintf("%s %s %s", name, text(g.Rule), limit)
	}
	if g.OnlyIfSignificant {
		s += " (if significant)"
	}
	if g.Actual == nil {
		return s
	}
	a := *g.Actual
	unit := ""
	if pct {
		unit = "%"
	}
	switch g.Rule {
	case diff.RuleMin, diff.RuleMax:
		return s + ": " + num(a, p)
	case diff.RuleMaxIncrease:
		if a < 0 {
			return s + ": fell " + num(-a, p) + unit
		}
		return s + ": rose " + num(a, p) + unit
	case diff.RuleMaxDecrease:
		if a < 0 {
			return s + ": rose " + num(-a, p) + unit
		}
		return s + ": fell " + num(a, p) + unit
	}
	return s + ": " + num(a, p)
}

func chart(c *diff.Chart, p int) string {
	if len(c.Labels) == 0 || len(c.Challenger) != len(c.Labels) {
		return ""
	}
	hasChamp := len(c.Champion) == len(c.Labels)
	lo, hi := 0.0, 0.0
	for _, series := range [][]float64{c.Champion, c.Challenger} {
		for _, v := range series {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if c.Kind == diff.ChartPerClass {
		lo, hi = 0, 1
	} else {
		pad := (hi - lo) * 0.05
		if pad == 0 {
			pad = 1
		}
		if lo < 0 {
			lo -= pad
		}
		if hi > 0 || lo == 0 {
			hi += pad
		}
	}
	labels := make([]string, len(c.Labels))
	for i, l := range c.Labels {
		labels[i] = quoted(l)
	}
	series := func(vs []float64) string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = plain(v, p)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	b.WriteString("```mermaid\nxychart-beta\n")
	fmt.Fprintf(&b, "    title %s\n", quoted(c.Title))
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(&b, "    y-axis %s %s --> %s\n", quoted(c.YLabel), plain(lo, p), plain(hi, p))
	fmt.Fprintf(&b, "    bar %s\n", series(c.Challenger))
	if hasChamp {
		fmt.Fprintf(&b, "    line %s\n", series(c.Champion))
	}
	b.WriteString("```\n")
	if hasChamp {
		b.WriteString("<sub>Bars: challenger · line: champion.")
	} else {
		b.WriteString("<sub>Bars: challenger.")
	}
	if c.Kind == diff.ChartResidualDeciles {
		b.WriteString(" A mean residual near 0 in every decile means the predictions are not biased high or low anywhere in their range.")
	}
	b.WriteString("</sub>\n\n")
	return b.String()
}

func details(summary string) string {
	return "<details>\n<summary>" + summary + "</summary>\n\n"
}

const endDetails = "\n</details>\n\n"

func dataSection(d *doc, res *diff.Result, p int) {
	chal := res.Challenger
	c := res.Champion
	var b strings.Builder
	b.WriteString(details("Data: " + dataSummary(res)))
	single := c == nil
	row := func(label string, champ, challenger string) {
		if single {
			fmt.Fprintf(&b, "| %s | %s |\n", label, challenger)
			return
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", label, champ, challenger)
	}
	if single {
		b.WriteString("| | challenger |\n|:--|--:|\n")
		c = &diff.Side{}
	} else {
		b.WriteString("| | champion | challenger |\n|:--|--:|--:|\n")
	}
	rows := count(chal.Data.Rows)
	if res.Champion != nil && res.Data.RowsChanged {
		rows += fmt.Sprintf(" (%s)", signedCount(res.Data.RowsChange))
	}
	row("data file", optCode(c.Data.Path), optCode(chal.Data.Path))
	fp := optCode(revision.Short(chal.Data.SHA256))
	if res.Champion != nil {
		if res.Data.SameData {
			fp += " (same)"
		} else {
			fp += " (changed)"
		}
	}
	row("fingerprint (sha256)", optCode(revision.Short(c.Data.SHA256)), fp)
	row("rows", count(c.Data.Rows), rows)
	row("dropped: missing target", count(c.Data.DroppedMissingTarget), count(chal.Data.DroppedMissingTarget))
	row("dropped: missing feature", count(c.Data.DroppedMissingFeatures), count(chal.Data.DroppedMissingFeatures))
	row("train / test rows", count(c.Data.TrainRows)+" / "+count(c.Data.TestRows), count(chal.Data.TrainRows)+" / "+count(chal.Data.TestRows))
	row("features → encoded columns", count(c.Features)+" → "+count(c.Columns), count(chal.Features)+" → "+count(chal.Columns))
	b.WriteString("\n")
	r := res.Rows
	if res.Champion == nil {
		fmt.Fprintf(&b, "Test rows: %s; scored: %s", count(r.Test), count(r.Shared))
	} else {
		fmt.Fprintf(&b, "Test rows: %s; scored by both models: %s", count(r.Test), count(r.Shared))
	}
	if r.DroppedByChallenger > 0 || r.DroppedByChampion > 0 {
		fmt.Fprintf(&b, " (dropped for a missing value: %s by the challenger, %s by the champion)", count(r.DroppedByChallenger), count(r.DroppedByChampion))
	}
	b.WriteString(".\n")
	dc := res.Data
	n := len(dc.FeaturesAdded) + len(dc.FeaturesRemoved) + len(dc.TypeChanged)
	if res.Champion == nil || n == 0 {
		if res.Champion != nil {
			b.WriteString("\nSame features as the champion.\n")
		}
		b.WriteString(endDetails)
		d.text(b.String())
		return
	}
	fmt.Fprintf(&b, "\nFeature changes: %s added, %s removed, %s changed type.\n\n", count(len(dc.FeaturesAdded)), count(len(dc.FeaturesRemoved)), count(len(dc.TypeChanged)))
	d.text(b.String())
	t := newTable("feature changes", "features", "", "ll", "feature", "change")
	for _, f := range dc.FeaturesAdded {
		t.add(code(f), "➕ added")
	}
	for _, f := range dc.FeaturesRemoved {
		t.add(code(f), "➖ removed")
	}
	for _, tc := range dc.TypeChanged {
		t.add(code(tc.Name), fmt.Sprintf("🔀 %s → %s", text(tc.Champion), text(tc.Challenger)))
	}
	d.table(t)
	d.text(endDetails)
}

func dataSummary(res *diff.Result) string {
	chal := res.Challenger.Data
	s := fmt.Sprintf("%s rows, %s train / %s test", count(chal.Rows), count(chal.TrainRows), count(chal.TestRows))
	if res.Champion != nil {
		switch {
		case res.Data.SameData:
			s += ", same data as the champion"
		case res.Data.RowsChanged:
			s += fmt.Sprintf(", %s rows vs the champion", signedCount(res.Data.RowsChange))
		default:
			s += ", data changed"
		}
	}
	return s
}

func signedCount(n int) string {
	if n > 0 {
		return "+" + count(n)
	}
	return count(n)
}

func optCode(s string) string {
	if s == "" {
		return "—"
	}
	return code(s)
}

func driftSection(d *doc, res *diff.Result, p int) {
	if len(res.Drift) == 0 && res.TargetDrift == nil {
		return
	}
	levels := map[string]int{}
	for _, dr := range res.Drift {
		levels[dr.Status]++
	}
	var parts []string
	for _, s := range []string{diff.DriftSignificant, diff.DriftModerate, diff.DriftStable, diff.DriftAdded, diff.DriftRemoved, diff.DriftTypeChanged, diff.DriftNoData} {
		if levels[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", count(levels[s]), strings.ReplaceAll(s, "_", " ")))
		}
	}
	var b strings.Builder
	b.WriteString(details("Drift per feature: " + strings.Join(parts, ", ")))
	b.WriteString("PSI of the challenger's training rows on the bins of the champion's training data: stable < 0.1 ≤ moderate < 0.25 ≤ significant.\n\n")
	if td := res.TargetDrift; td != nil {
		fmt.Fprintf(&b, "Target %s: %s.\n\n", code(td.Feature), driftStatus(*td, p))
	}
	d.text(b.String())
	t := newTable("drift per feature", "features", "most shifted first", "llrlrr", "feature", "type", "PSI", "drift", "mean (champion → challenger)", "missing (champion → challenger)")
	for _, dr := range res.Drift {
		psi := "—"
		if dr.PSI != nil {
			psi = num(*dr.PSI, p)
		}
		mean := "—"
		if dr.ChampionMean != nil || dr.ChallengerMean != nil {
			mean = optNum(dr.ChampionMean, p) + " → " + optNum(dr.ChallengerMean, p)
		}
		missing := "—"
		if dr.Status != diff.DriftAdded && dr.Status != diff.DriftRemoved && dr.Status != diff.DriftTypeChanged {
			missing = pct(dr.ChampionMissingRate, p) + " → " + pct(dr.ChallengerMissingRate, p)
		}
		t.add(code(dr.Feature), text(dr.Type), psi, driftLabel(dr), mean, missing)
	}
	d.table(t)
	d.text(endDetails)
}

func pct(f float64, p int) string { return num(f*100, p) + "%" }

func driftLabel(dr diff.Drift) string {
	s := map[string]string{
		diff.DriftStable:      "🟢 stable",
		diff.DriftModerate:    "🟡 moderate",
		diff.DriftSignificant: "🔴 significant",
		diff.DriftAdded:       "➕ added",
		diff.DriftRemoved:     "➖ removed",
		diff.DriftTypeChanged: "🔀 type changed",
		diff.DriftNoData:      "— no data",
	}[dr.Status]
	if dr.NewCategories > 0 {
		s += fmt.Sprintf(" · %s unseen", count(dr.NewCategories))
	}
	return s
}

func driftStatus(dr diff.Drift, p int) string {
	if dr.PSI == nil {
		return driftLabel(dr)
	}
	return "PSI " + num(*dr.PSI, p) + ", " + driftLabel(dr)
}

// MaxCoefficients is the most coefficient changes the report lists: the
// largest (columns only one model has first, as diff sorts them).
const MaxCoefficients = 50

func coefficientSection(d *doc, res *diff.Result, p int) {
	c := res.Coefficients
	if c == nil {
		return
	}
	changed := 0
	for _, cc := range c.Columns {
		if cc.Change == nil || *cc.Change != 0 {
			changed++
		}
	}
	var b strings.Builder
	b.WriteString(details(fmt.Sprintf("Coefficient changes: %s of %s columns", count(changed), count(len(c.Columns)))))
	if c.Standardized {
		b.WriteString("Coefficients act on the encoded columns: numeric features standardized (per standard deviation), categories one-hot. Largest change first.\n\n")
	} else {
		b.WriteString("Coefficients act on the encoded columns (raw numeric units, categories one-hot). Largest change first.\n\n")
	}
	d.text(b.String())
	t := newTable("coefficient changes", "columns", "largest change first", "lrrr", "column", "champion", "challenger", "change")
	if c.Intercept.Champion != nil || c.Intercept.Challenger != nil {
		t.head += fmt.Sprintf("| *intercept* | %s | %s | %s |\n", optNum(c.Intercept.Champion, p), optNum(c.Intercept.Challenger, p), optSigned(c.Intercept.Change, p))
	}
	shown := c.Columns
	if len(shown) > MaxCoefficients {
		shown = shown[:MaxCoefficients]
		t.capped = len(c.Columns) - MaxCoefficients
		t.capNote = "more coefficients not shown (this table lists the " + count(MaxCoefficients) + " largest changes)"
	}
	for _, cc := range shown {
		ch := optSigned(cc.Change, p)
		switch {
		case cc.Champion == nil:
			ch = "➕ new"
		case cc.Challenger == nil:
			ch = "➖ dropped"
		}
		t.add(code(cc.Column), optNum(cc.Champion, p), optNum(cc.Challenger, p), ch)
	}
	d.table(t)
	d.text(endDetails)
}

// MaxImportance is the most features the model section lists by
// importance.
const MaxImportance = 30

// fitSection shows what fits two models of different kinds: the kind and
// size of each, and the features' share of the trees' split gain.
func fitSection(d *doc, res *diff.Result, p int) {
	f := res.Fit
	if f == nil {
		return
	}
	d.text(details(fmt.Sprintf("Model: %s → %s", fitName(f.Champion), fitName(f.Challenger))))
	t := newTable("models", "rows", "", "lrr", "", "champion", "challenger")
	t.add("kind", text(f.Champion.Kind), text(f.Challenger.Kind))
	t.add("outputs", count(f.Champion.Outputs), count(f.Challenger.Outputs))
	size := func(s diff.FitSide) (trees, leaves, coefs string) {
		if s.Kind == "trees" {
			return count(s.Trees), count(s.Leaves), "—"
		}
		return "—", "—", count(s.Coefficients)
	}
	at, al, ac := size(f.Champion)
	bt, bl, bc := size(f.Challenger)
	t.add("trees", at, bt)
	t.add("leaves", al, bl)
	t.add("non-zero coefficients", ac, bc)
	d.table(t)
	if len(f.Importance) > 0 {
		d.text("\nFeature importance: each feature's share of the trees' total split gain.\n\n")
		it := newTable("feature importance", "features", "largest first", "lrr", "feature", "champion", "challenger")
		shown := f.Importance
		if len(shown) > MaxImportance {
			shown = shown[:MaxImportance]
			it.capped = len(f.Importance) - MaxImportance
			it.capNote = "more features not shown (this table lists the " + count(MaxImportance) + " most important)"
		}
		for _, ic := range shown {
			it.add(code(ic.Feature), optNum(ic.Champion, p), optNum(ic.Challenger, p))
		}
		d.table(it)
	}
	d.text(endDetails)
}

// fitName names a model's fit in a few words: "linear" or "100 trees".
func fitName(s diff.FitSide) string {
	if s.Kind == "trees" {
		return count(s.Trees) + " trees, " + count(s.Leaves) + " leaves"
	}
	if s.Outputs > 1 {
		return fmt.Sprintf("linear, %d outputs", s.Outputs)
	}
	return "linear"
}

func optSigned(v *float64, p int) string {
	if v == nil {
		return "—"
	}
	return signed(*v, p)
}

// MaxConfusionClasses is the most classes whose confusion matrix the
// report shows; the JSON report has every matrix.
const MaxConfusionClasses = 12

func confusionSection(res *diff.Result) string {
	chal := res.Challenger
	k := len(chal.Classes)
	if k < 2 || k > MaxConfusionClasses || len(chal.ConfusionMatrix) != k {
		return ""
	}
	var b strings.Builder
	where := "the shared test rows"
	if res.Champion != nil && !res.Comparable {
		where = "each model's own test rows"
	}
	b.WriteString(details("Confusion matrices on " + where))
	matrix := func(title string, cm [][]int, classes []string) {
		fmt.Fprintf(&b, "**%s**\n\n| true ↓ · predicted → |", title)
		for _, c := range classes {
			fmt.Fprintf(&b, " %s |", code(c))
		}
		b.WriteString("\n|:--|" + strings.Repeat("--:|", len(classes)) + "\n")
		for i, row := range cm {
			fmt.Fprintf(&b, "| %s |", code(classes[i]))
			for _, v := range row {
				fmt.Fprintf(&b, " %s |", count(v))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	if c := res.Champion; c != nil && len(c.Classes) == len(c.ConfusionMatrix) && len(c.Classes) >= 2 && len(c.Classes) <= MaxConfusionClasses {
		matrix("Champion", c.ConfusionMatrix, c.Classes)
	}
	matrix("Challenger", chal.ConfusionMatrix, chal.Classes)
	b.WriteString("</details>\n\n")
	return b.String()
}

func trainingSection(res *diff.Result, p int) string {
	chal := res.Challenger
	c := res.Champion
	var b strings.Builder
	b.WriteString(details("Training settings"))
	if c == nil {
		b.WriteString("| setting | challenger |\n|:--|--:|\n")
	} else {
		b.WriteString("| setting | champion | challenger |\n|:--|--:|--:|\n")
	}
	row := func(name string, champ, challenger string) {
		if c == nil {
			fmt.Fprintf(&b, "| %s | %s |\n", name, challenger)
			return
		}
		if champ != challenger {
			challenger = "**" + challenger + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, champ, challenger)
	}
	ct := chal.Training
	champ := diff.Side{}
	if c != nil {
		champ = *c
	}
	ht := champ.Training
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	orDash := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	row("model", text(champ.Algorithm), text(chal.Algorithm))
	row("target", optCode(champ.Target), optCode(chal.Target))
	row("solver", orDash(text(ht.Solver)), orDash(text(ct.Solver)))
	row("alpha", num(ht.Alpha, p), num(ct.Alpha, p))
	row("fit intercept", yes(ht.FitIntercept), yes(ct.FitIntercept))
	row("standardize", yes(ht.Standardize), yes(ct.Standardize))
	if hb, cb := ht.Boosting, ct.Boosting; hb != nil || cb != nil {
		boosting := func(b *model.BoostingTraining, f func(*model.BoostingTraining) string) string {
			if b == nil {
				return "—"
			}
			return f(b)
		}
		for _, r := range []struct {
			name string
			f    func(*model.BoostingTraining) string
		}{
			{"loss", func(b *model.BoostingTraining) string { return text(b.Loss) }},
			{"max leaf nodes / depth", func(b *model.BoostingTraining) string {
				depth := "none"
				if b.MaxDepth > 0 {
					depth = count(b.MaxDepth)
				}
				return count(b.MaxLeafNodes) + " / " + depth
			}},
			{"min samples leaf", func(b *model.BoostingTraining) string { return count(b.MinSamplesLeaf) }},
			{"l2 regularization", func(b *model.BoostingTraining) string { return num(b.L2Regularization, p) }},
			{"max bins", func(b *model.BoostingTraining) string { return count(b.MaxBins) }},
			{"early stopping", func(b *model.BoostingTraining) string {
				if !b.EarlyStopping {
					return "no"
				}
				return fmt.Sprintf("yes (%s validation, %d rounds)", num(b.ValidationFraction, p), b.NIterNoChange)
			}},
		} {
			row(r.name, boosting(hb, r.f), boosting(cb, r.f))
		}
	}
	if ht.LearningRate != 0 || ct.LearningRate != 0 {
		row("learning rate", num(ht.LearningRate, p), num(ct.LearningRate, p))
	}
	if ht.MaxIter != 0 || ct.MaxIter != 0 {
		row("max iterations / tol", count(ht.MaxIter)+" / "+num(ht.Tol, p), count(ct.MaxIter)+" / "+num(ct.Tol, p))
		row("iterations (converged)", count(ht.Iterations)+" ("+yes(ht.Converged)+")", count(ct.Iterations)+" ("+yes(ct.Converged)+")")
	}
	row("final loss", num(ht.Loss, p), num(ct.Loss, p))
	row("split: test size / seed", num(ht.TestSize, p)+" / "+strconv.FormatUint(uint64(ht.Seed), 10), num(ct.TestSize, p)+" / "+strconv.FormatUint(uint64(ct.Seed), 10))
	b.WriteString("</details>\n\n")
	return b.String()
}
