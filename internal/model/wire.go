package model

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes model.json in the layout of the model's schema
// version: a version 1 model exactly as the releases that wrote version 1
// did (so a re-sealed champion is byte-identical), a version 2 model
// without the version 1 Intercept and Coefficients.
func (m Model) MarshalJSON() ([]byte, error) {
	type v1 Model // the same fields, without this method
	if m.SchemaVersion < MaxSchemaVersion {
		return marshalPlain(v1(m))
	}
	return marshalPlain(struct {
		SchemaVersion int               `json:"schema_version"`
		Name          string            `json:"name"`
		Task          string            `json:"task"`
		Algorithm     string            `json:"algorithm"`
		Target        string            `json:"target"`
		Classes       []string          `json:"classes,omitempty"`
		Features      []Feature         `json:"features"`
		Columns       []string          `json:"columns"`
		Outputs       int               `json:"outputs"`
		Predictor     *Block            `json:"predictor"`
		Link          string            `json:"link"`
		Training      Training          `json:"training"`
		Files         map[string]string `json:"files,omitempty"`
		Checksum      string            `json:"checksum"`
	}{
		m.SchemaVersion, m.Name, m.Task, m.Algorithm, m.Target, m.Classes, m.Features, m.Columns,
		m.Outputs, m.Predictor, m.Link, m.Training, m.Files, m.Checksum,
	})
}

// marshalPlain encodes v as compact JSON without HTML escaping, as Marshal
// does before indenting.
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
