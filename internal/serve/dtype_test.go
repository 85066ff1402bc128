package serve

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestV2Datatypes: the elements of a V2 tensor are checked against its
// datatype (integral and in range for the integer types, in range for
// FP16 and FP32, true/false for BOOL, BYTES for a categorical feature),
// and a mismatch is a 400 naming the input and the element.
func TestV2Datatypes(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{})
	infer := "/v2/models/houses/infer"
	// body sends three rows, one input per feature; bedrooms is the input
	// under test, with datatype dt and elements data.
	body := func(name, dt, data string) string {
		in := map[string]string{
			"sqft":     `{"name":"sqft","shape":[3],"datatype":"FP64","data":[1500,2351,600]}`,
			"bedrooms": `{"name":"bedrooms","shape":[3],"datatype":"INT64","data":[3,4,1]}`,
			"age":      `{"name":"age","shape":[3,1],"datatype":"FP32","data":[[20],[1.8],[80]]}`,
			"city":     `{"name":"city","shape":[3],"datatype":"BYTES","data":["paris","oslo","paris"]}`,
		}
		in[name] = `{"name":"` + name + `","shape":[3],"datatype":"` + dt + `","data":` + data + `}`
		return `{"inputs":[` + in["sqft"] + "," + in["bedrooms"] + "," + in["age"] + "," + in["city"] + `]}`
	}
	cases := []struct {
		name, input, dt, data string
		// errSub is empty for a 200.
		errSub string
	}{
		// The four.
		{"INT8 carrying 2351", "sqft", "INT8", "[15,2351,60]", `input "sqft", element 1 (row 1, feature "sqft"): INT8 holds integers from -128 to 127, got 2351`},
		{"UINT8 carrying -5", "bedrooms", "UINT8", "[3,4,-5]", `input "bedrooms", element 2 (row 2, feature "bedrooms"): UINT8 holds integers from 0 to 255, got -5`},
		{"INT32 carrying 2351.7", "sqft", "INT32", "[2351.7,1,2]", `input "sqft", element 0 (row 0, feature "sqft"): INT32 holds integers, got 2351.7`},
		{"FP64 for a categorical feature", "city", "FP64", "[1,2,3]", `input "city": feature "city" is categorical, so its datatype must be BYTES, not FP64`},
		{"INT64 for a categorical feature", "city", "INT64", "[1,2,3]", `feature "city" is categorical`},
		{"BOOL for a categorical feature", "city", "BOOL", "[true,false,true]", `feature "city" is categorical`},

		{"INT8 bounds", "bedrooms", "INT8", "[-128,127,0]", ""},
		{"INT8 above", "bedrooms", "INT8", "[1,128,0]", "from -128 to 127, got 128"},
		{"INT8 below", "bedrooms", "INT8", "[1,-129,0]", "got -129"},
		{"INT16 bounds", "bedrooms", "INT16", "[-32768,32767,1e3]", ""},
		{"INT16 above", "bedrooms", "INT16", "[32768,0,0]", "from -32768 to 32767"},
		{"INT32 bounds", "sqft", "INT32", "[-2147483648,2147483647,2351.0]", ""},
		{"INT32 above", "sqft", "INT32", "[1,2,2147483648]", "element 2"},
		{"INT64 bounds", "sqft", "INT64", "[-9223372036854775808,9223372036854775807,1]", ""},
		{"INT64 above", "sqft", "INT64", "[9223372036854775808,1,1]", "from -9223372036854775808 to 9223372036854775807, got 9223372036854775808"},
		{"INT64 far above", "sqft", "INT64", "[1e19,1,1]", "got 1e19"},
		{"INT64 below", "sqft", "INT64", "[-9223372036854775809,1,1]", "INT64 holds integers from -9223372036854775808"},
		{"UINT8 bounds", "bedrooms", "UINT8", "[0,255,-0]", ""},
		{"UINT8 above", "bedrooms", "UINT8", "[256,1,1]", "from 0 to 255, got 256"},
		{"UINT16 above", "bedrooms", "UINT16", "[65536,1,1]", "from 0 to 65535"},
		{"UINT32 bounds", "sqft", "UINT32", "[4294967295,0,1]", ""},
		{"UINT32 above", "sqft", "UINT32", "[4294967296,0,1]", "from 0 to 4294967295"},
		{"UINT64 bounds", "sqft", "UINT64", "[18446744073709551615,0,1e19]", ""},
		{"UINT64 above", "sqft", "UINT64", "[18446744073709551616,0,1]", "from 0 to 18446744073709551615, got 18446744073709551616"},
		{"UINT64 negative", "sqft", "UINT64", "[1,-1,1]", "element 1"},
		{"UINT64 fraction", "sqft", "UINT64", "[1,1.5,1]", "UINT64 holds integers, got 1.5"},
		{"FP16 bounds", "sqft", "FP16", "[65504,-65504,0.5]", ""},
		{"FP16 above", "sqft", "FP16", "[70000,1,1]", "70000 is out of the range of FP16"},
		{"FP32 bounds", "sqft", "FP32", "[3.4e38,-3.4e38,1]", ""},
		{"FP32 above", "sqft", "FP32", "[1,3.5e38,1]", "3.5e38 is out of the range of FP32"},
		{"FP64 large", "sqft", "FP64", "[1e300,1,1]", ""},
		{"BOOL", "bedrooms", "BOOL", "[true,false,true]", ""},
		{"BOOL carrying a number", "bedrooms", "BOOL", "[true,1,false]", `input "bedrooms", element 1 (row 1, feature "bedrooms"): BOOL holds true or false, got 1`},
		{"BOOL carrying a string", "bedrooms", "BOOL", `[true,"true",false]`, "datatype is numeric"},
		{"INT8 carrying a boolean", "bedrooms", "INT8", "[true,1,1]", "a boolean"},
		{"null is a missing value in an integer tensor", "bedrooms", "UINT8", "[null,1,1]", ""},
		{"NaN is a missing value in a BOOL tensor", "bedrooms", "BOOL", "[NaN,true,false]", ""},
		{"INT64 as a float", "sqft", "INT64", "[9.2e18,-9.2e18,1]", ""},
		{"INT64 as a float above", "sqft", "INT64", "[9.3e18,1,1]", "got 9.3e18"},
		{"BYTES with numbers and strings", "sqft", "BYTES", `[1500,"2351",600]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out := call(s, "POST", infer, "application/json", body(c.input, c.dt, c.data))
			if c.errSub == "" {
				if code != 200 {
					t.Fatalf("status %d: %s", code, out)
				}
				return
			}
			var resp struct {
				Error string `json:"error"`
			}
			if code != 400 || json.Unmarshal([]byte(out), &resp) != nil {
				t.Fatalf("status %d %s, want 400 with a V2 error", code, out)
			}
			if !strings.Contains(resp.Error, c.errSub) {
				t.Errorf("error %q does not mention %q", resp.Error, c.errSub)
			}
		})
	}
}

// TestV2TypedValues: the values of typed tensors are the numbers sent: BOOL
// true and false are 1 and 0, integers and FP16 values score as the same
// numbers in FP64, and a [N, F] tensor of a numeric type is refused when a
// feature is categorical.
func TestV2TypedValues(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{})
	infer := "/v2/models/houses/infer"
	named := func(sqft, bedrooms string) string {
		return `{"inputs":[` + sqft + "," + bedrooms +
			`,{"name":"age","shape":[2],"datatype":"FP64","data":[20,1.5]},{"name":"city","shape":[2],"datatype":"BYTES","data":["paris","oslo"]}]}`
	}
	predictions := func(body string) string {
		t.Helper()
		code, out := call(s, "POST", infer, "application/json", body)
		if code != 200 {
			t.Fatalf("status %d: %s", code, out)
		}
		var resp v2Response
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		return string(resp.Outputs[0].Data[0]) + "," + string(resp.Outputs[0].Data[1])
	}
	want := predictions(named(`{"name":"sqft","shape":[2],"datatype":"FP64","data":[1500,600]}`, `{"name":"bedrooms","shape":[2],"datatype":"FP64","data":[1,0]}`))
	for _, body := range []string{
		named(`{"name":"sqft","shape":[2],"datatype":"UINT16","data":[1500,600]}`, `{"name":"bedrooms","shape":[2],"datatype":"BOOL","data":[true,false]}`),
		named(`{"name":"sqft","shape":[2,1],"datatype":"FP16","data":[[1500],[600]]}`, `{"name":"bedrooms","shape":[2],"datatype":"INT8","data":[1,0]}`),
		named(`{"name":"sqft","shape":[2],"datatype":"INT64","data":[1.5e3,6e2]}`, `{"name":"bedrooms","shape":[2],"datatype":"UINT64","data":[1,0]}`),
	} {
		if got := predictions(body); got != want {
			t.Errorf("predictions %s, want %s, for %s", got, want, body)
		}
	}
	if want == predictions(named(`{"name":"sqft","shape":[2],"datatype":"FP64","data":[1500,600]}`, `{"name":"bedrooms","shape":[2],"datatype":"FP64","data":[0,1]}`)) {
		t.Fatal("the model ignores bedrooms: the BOOL case proves nothing")
	}
	code, out := call(s, "POST", infer, "application/json", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP64","data":[1500,3,20,1]}]}`)
	if code != 400 || !strings.Contains(out, `input \"x\": datatype FP64 cannot carry the categorical feature \"city\"`) {
		t.Errorf("FP64 [N, F] tensor with a categorical feature: %d %s", code, out)
	}
}
