package input

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/dockward/dockward/plugin/internal/testutil"
)

// decodeCreateTwice is how create bodies were decoded before (a scan of
// the top-level keys, then the typed decode): the reference the one-decode
// path must match.
func decodeCreateTwice(raw []byte) (*container.CreateRequest, bool, error) {
	var top map[string]json.RawMessage
	if err := decodeJSON(raw, &top); err != nil {
		return nil, false, err
	}
	if len(legacyHostConfigKeys(top)) > 0 {
		return nil, true, nil
	}
	var cr container.CreateRequest
	if err := decodeJSON(raw, &cr); err != nil {
		return nil, false, err
	}
	if cr.Config == nil {
		cr.Config = &container.Config{}
	}
	if cr.HostConfig == nil {
		cr.HostConfig = &container.HostConfig{}
	}
	return &cr, false, nil
}

// TestCreateDecodesOnceLikeTwice: decoding a create body once (createBody)
// refuses exactly the bodies the key scan called ambiguous, fails exactly
// where the two decodes failed, and otherwise yields the same request, for
// every captured create, every fuzz seed and the legacy shapes below.
func TestCreateDecodesOnceLikeTwice(t *testing.T) {
	bodies := map[string]string{
		"plain":                    `{"Image":"busybox"}`,
		"null":                     `null`,
		"empty object":             `{}`,
		"legacy Privileged":        `{"Image":"b","Privileged":true}`,
		"legacy, lower case":       `{"Image":"b","privileged":true}`,
		"legacy set to null":       `{"Image":"b","Privileged":null}`,
		"legacy zero value":        `{"Image":"b","Binds":[]}`,
		"legacy Resources field":   `{"Image":"b","Memory":0}`,
		"legacy CpuShares":         `{"Image":"b","CpuShares":1}`,
		"legacy Cpuset":            `{"Image":"b","Cpuset":"0"}`,
		"legacy Cpuset null":       `{"Image":"b","Cpuset":null}`,
		"legacy, wrong type":       `{"Image":"b","Privileged":"yes"}`,
		"legacy beside HostConfig": `{"Image":"b","HostConfig":{"Privileged":false},"Privileged":true}`,
		"hostconfig, lower case":   `{"Image":"b","hostconfig":{"Privileged":true}}`,
		"kelvin sign folds":        `{"Image":"b","\u212aernelMemory":1}`,
		"config field wrong type":  `{"Image":1}`,
		"array":                    `[]`,
		"string":                   `"x"`,
		"truncated":                `{"Image":"b"`,
		"trailing data":            `{"Image":"b"} {"Privileged":true}`,
		"networking":               `{"Image":"b","NetworkingConfig":{"EndpointsConfig":{"n":{}}}}`,
	}
	reqs := testutil.CapturedRequests(t, "../testdata/requests")
	for f, r := range testutil.FuzzSeeds(t, "testdata/fuzz") {
		reqs[f] = r
	}
	for f, r := range reqs {
		if strings.Contains(r.RequestURI, "/containers/create") && len(r.RequestBody) > 0 {
			bodies[f] = string(r.RequestBody)
		}
	}
	if len(bodies) < 40 {
		t.Fatalf("only %d bodies", len(bodies))
	}
	for name, body := range bodies {
		want, ambiguous, werr := decodeCreateTwice([]byte(body))
		got, _, gerr := decodeCreate([]byte(body))
		switch {
		case ambiguous:
			if gerr == nil || !strings.Contains(gerr.Error(), "top level") {
				t.Errorf("%s: the key scan calls it ambiguous; one decode says %v", name, gerr)
			}
		case werr != nil:
			if gerr == nil {
				t.Errorf("%s: two decodes fail (%v); one decode accepts it", name, werr)
			}
		case gerr != nil:
			t.Errorf("%s: two decodes accept it; one decode says %v", name, gerr)
		case !reflect.DeepEqual(got, want):
			t.Errorf("%s: decoded differently:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// No Config field may share a JSON name with a HostConfig field (case
// folded as encoding/json folds): it would be ambiguous in createBody and
// encoding/json would drop both.
func TestCreateBodyHasNoAmbiguousFields(t *testing.T) {
	cfg := jsonNames(reflect.TypeOf(container.Config{}))
	for _, h := range append(jsonNames(reflect.TypeOf(container.HostConfig{})), "HostConfig", "NetworkingConfig", "Cpuset") {
		for _, c := range cfg {
			if strings.EqualFold(h, c) {
				t.Errorf("container.Config.%s and the top-level %s share a name", c, h)
			}
		}
	}
}
