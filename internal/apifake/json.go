package apifake

import (
	"encoding/json"
	"io"
	"net/http"
)

// WriteJSON answers v as JSON with status, or 500 if v cannot be encoded.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"fake server: encode"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// DecodeBody decodes a request of the form {"body": ...}, as comments and
// notes are written, reading at most limit bytes. The body is nil when the
// field is missing or null.
func DecodeBody(r *http.Request, limit int64) (*string, error) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, limit)).Decode(&in); err != nil {
		return nil, err
	}
	return in.Body, nil
}
