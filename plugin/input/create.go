package input

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// decodeCreate decodes a container create body into the Docker API types the
// daemon uses, and returns it together with its canonical re-encoding (Docker
// field names, Env values removed) for input.body, computed when first read.
// The body is decoded once.
func decodeCreate(raw []byte) (*container.CreateRequest, *LazyBody, error) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] != '{' && !bytes.HasPrefix(t, []byte("null")) {
		return nil, nil, denyf("container create body is not a JSON object")
	}
	var b createBody
	if err := decodeJSON(raw, &b); err != nil {
		var top map[string]json.RawMessage
		if terr := decodeJSON(raw, &top); terr != nil {
			return nil, nil, denyf("container create body is not a JSON object: %v", terr)
		}
		if keys := legacyHostConfigKeys(top); len(keys) > 0 {
			// A legacy field of the wrong type: ambiguous before wrong.
			return nil, nil, denyf("container create body has HostConfig fields at its top level (%s): "+
				"engines up to API 1.41 apply them and newer ones ignore them, so the plugin cannot tell what would run; "+
				"send them inside \"HostConfig\"", strings.Join(keys, ", "))
		}
		return nil, nil, denyf("container create body cannot be decoded as the daemon decodes it: %v", err)
	}
	// B4: engines up to API 1.41 also honour HostConfig fields at the top
	// level of the body (a deprecated wrapper); newer engines ignore them.
	// Either reading could be the one that runs, so the body is ambiguous.
	if b.TopLevelHostConfig != nil || b.Cpuset != nil {
		return nil, nil, denyf("container create body has HostConfig fields at its top level (%s): "+
			"engines up to API 1.41 apply them and newer ones ignore them, so the plugin cannot tell what would run; "+
			"send them inside \"HostConfig\"", strings.Join(topLevelKeys(raw), ", "))
	}
	cr := container.CreateRequest{Config: b.Config, HostConfig: b.HostConfig, NetworkingConfig: b.NetworkingConfig}
	if cr.Config == nil {
		cr.Config = &container.Config{}
	}
	if cr.HostConfig == nil {
		cr.HostConfig = &container.HostConfig{}
	}
	return &cr, &LazyBody{raw: raw, make: func() (any, error) { return canonical(&cr) }}, nil
}

// createBody is a create request as the daemon decodes it
// (container.CreateRequest), plus the HostConfig fields a client may put at
// its top level (the legacy wrapper, ContainerConfigWrapper in moby): one
// decode gives the request and tells whether it is ambiguous, because
// encoding/json allocates the embedded TopLevelHostConfig only when the body
// has one of its fields (even set to null). No field of container.Config
// shares a JSON name with HostConfig's (TestCreateDecodesOnceLikeTwice).
type createBody struct {
	*container.Config
	HostConfig       *container.HostConfig     `json:"HostConfig,omitempty"`
	NetworkingConfig *network.NetworkingConfig `json:"NetworkingConfig,omitempty"`
	*TopLevelHostConfig
	// Cpuset is the legacy wrapper's own field (today's CpusetCpus).
	Cpuset json.RawMessage `json:",omitempty"`
}

// TopLevelHostConfig catches HostConfig fields sent at the top level of a
// container create body (exported only because encoding/json sets embedded
// pointers of exported types alone).
type TopLevelHostConfig container.HostConfig

// topLevelKeys names the legacy keys of an ambiguous body, for the denial.
func topLevelKeys(raw []byte) []string {
	var top map[string]json.RawMessage
	if err := decodeJSON(raw, &top); err != nil {
		return []string{"unreadable"}
	}
	return legacyHostConfigKeys(top)
}

// LazyBody is input.body computed on first use: the canonical re-encoding
// of a container create costs a third of building its input, no shipped
// rule reads it (custom rules may), and a decision the cache already has
// never needs it. Its value is a function of the request body alone (Raw),
// which is what the decision cache keys it by. Rego sees it through
// JSONValue (plugin/policy's conversion), logs through MarshalJSON: both
// the same JSON, redacted, as an eagerly built body would be.
type LazyBody struct {
	raw  []byte
	make func() (any, error)

	once sync.Once
	v    any
	err  error
}

// JSONValue is the body as plain JSON values (numbers as json.Number).
func (b *LazyBody) JSONValue() (any, error) {
	b.once.Do(func() { b.v, b.err = b.make() })
	return b.v, b.err
}

// MarshalJSON implements json.Marshaler.
func (b *LazyBody) MarshalJSON() ([]byte, error) {
	v, err := b.JSONValue()
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Raw is the request body the value is computed from.
func (b *LazyBody) Raw() []byte { return b.raw }

// then applies f to the value once it is computed (redaction).
func (b *LazyBody) then(f func(any) any) {
	inner := b.make
	b.make = func() (any, error) {
		v, err := inner()
		if err != nil {
			return nil, err
		}
		return f(v), nil
	}
}

// canonical re-encodes the typed request with Docker's field names and
// decodes it back into plain JSON values for Rego, with Env reduced to names.
func canonical(cr *container.CreateRequest) (any, error) {
	cfg := *cr.Config
	if cfg.Env != nil {
		names := make([]string, len(cfg.Env))
		for i, kv := range cfg.Env {
			names[i] = EnvName(kv)
		}
		cfg.Env = names
	}
	cp := container.CreateRequest{Config: &cfg, HostConfig: cr.HostConfig, NetworkingConfig: cr.NetworkingConfig}
	v, err := canonicalJSON(cp)
	if err != nil {
		return nil, denyf("container create body cannot be re-encoded: %v", err)
	}
	return v, nil
}

// canonicalJSON is x as plain JSON values. Numbers stay json.Number, exactly
// as encoded (134217728, never 1.34217728e+08), like every other body.
func canonicalJSON(x any) (any, error) {
	b, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

var (
	hostConfigKeysOnce sync.Once
	hostConfigKeys     []string // JSON names of HostConfig fields, incl. Resources
	configKeys         []string // JSON names of Config fields
)

// legacyHostConfigKeys returns the top-level keys that encoding/json would
// match (case-insensitively) to a HostConfig field in the legacy wrapper.
func legacyHostConfigKeys(top map[string]json.RawMessage) []string {
	hostConfigKeysOnce.Do(func() {
		hostConfigKeys = append(jsonNames(reflect.TypeOf(container.HostConfig{})), "Cpuset")
		configKeys = append(jsonNames(reflect.TypeOf(container.Config{})), "HostConfig", "NetworkingConfig")
	})
	var found []string
	for k := range top {
		if matchesAny(k, configKeys) {
			continue // a Config field or the wrappers: the current shape
		}
		if matchesAny(k, hostConfigKeys) {
			found = append(found, k)
		}
	}
	sort.Strings(found)
	return found
}

func matchesAny(k string, names []string) bool {
	for _, n := range names {
		// strings.EqualFold is the folding encoding/json uses for keys
		// (it also folds the Kelvin sign and long s).
		if strings.EqualFold(k, n) {
			return true
		}
	}
	return false
}

// jsonNames lists the JSON keys of a struct type, flattening embedded structs
// as encoding/json does.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				names = append(names, jsonNames(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
