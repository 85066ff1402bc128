package config

import (
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/modelci/modelci/internal/metrics"
)

// maxSuggestDistance is the largest edit distance at which a known name is
// offered as "did you mean": "taget" → "target", "rsme" → "rmse".
const maxSuggestDistance = 2

// closest returns the candidate nearest to name within maxSuggestDistance
// edits, ties broken by candidate order, or "" when none is that close.
func closest(name string, candidates []string) string {
	best, bestD := "", maxSuggestDistance+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := levenshtein.Distance(name, c, nil); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean renders "; did you mean X?" or "".
func didYouMean(name string, candidates []string) string {
	if s := closest(name, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// schemaKeys returns every YAML key of the config schema, sorted, for
// suggestions on an unknown key.
func schemaKeys() []string {
	seen := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			seen[tag] = true
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

// suggestKey appends a suggestion to go-yaml's unknown-field message.
func suggestKey(msg string) string {
	m := unknownFieldRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return msg + didYouMean(m[1], schemaKeys())
}

// allMetricNames lists the metrics of both tasks, so a classification metric
// misspelt in a regression config is still suggested.
func allMetricNames() []string {
	return append(metrics.Names(metrics.TaskRegression), metrics.Names(metrics.TaskClassification)...)
}
