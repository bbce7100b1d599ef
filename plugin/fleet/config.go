package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/util"
)

// DefaultBufferBytes bounds the decision-log buffer when the OPA config sets
// no bound: OPA's own default for the size buffer is unlimited, and a host
// whose collector is down for a day must not grow without end.
const DefaultBufferBytes = 16 << 20

// supported are the top-level keys of an OPA configuration dockward honours.
// Anything else is an error: a setting silently ignored is a setting an
// operator believes in and does not have.
var supported = map[string]string{
	"services":              "bundle servers and collectors",
	"labels":                "added to every decision-log event",
	"keys":                  "bundle verification keys",
	"bundles":               "policy bundles",
	"decision_logs":         "remote decision logs",
	"persistence_directory": "where bundles with persist: true are kept",
}

// Config is a checked OPA configuration.
type Config struct {
	raw          []byte // JSON, with the defaults dockward injects
	Bundles      []string
	DecisionLogs bool
	// Injected lists the settings dockward added, for the start-up log.
	Injected []string
}

// LoadConfig reads and checks the OPA configuration file at path (YAML or
// JSON, the format `opa run --config-file` reads).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read opa config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("opa config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig checks an OPA configuration: only the keys dockward honours,
// no custom plugins, and a bounded decision-log buffer (DefaultBufferBytes
// when none is set). The services, bundles, keys and decision_logs
// themselves are validated by OPA's plugins when the fleet is built.
func ParseConfig(b []byte) (*Config, error) {
	var doc map[string]any
	if err := util.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var problems []string
	for k := range doc {
		if _, ok := supported[k]; ok {
			continue
		}
		switch k {
		case "discovery":
			problems = append(problems, "discovery is not supported: list bundles and decision_logs in this file (every host reads the same file)")
		case "plugins":
			problems = append(problems, "custom plugins are not supported (dockward is not an OPA runtime)")
		case "status":
			problems = append(problems, "status reporting is not supported: scrape dockward's /metrics (dockward_bundle_*) instead")
		case "bundle":
			problems = append(problems, `the deprecated "bundle" key is not supported: use "bundles"`)
		default:
			problems = append(problems, fmt.Sprintf("%q is not supported", k))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s (supported keys: %s)", strings.Join(problems, "; "), supportedKeys())
	}
	c := &Config{}
	if bs, ok := doc["bundles"].(map[string]any); ok {
		for name := range bs {
			c.Bundles = append(c.Bundles, name)
		}
		sort.Strings(c.Bundles)
	} else if doc["bundles"] != nil {
		return nil, errors.New("bundles must be a map of bundle name to its source")
	}
	if dl, ok := doc["decision_logs"].(map[string]any); ok {
		c.DecisionLogs = true
		if dl["plugin"] != nil {
			return nil, errors.New("decision_logs.plugin is not supported: send decision logs to a service")
		}
		injected, err := boundBuffer(dl)
		if err != nil {
			return nil, err
		}
		c.Injected = injected
	} else if doc["decision_logs"] != nil {
		return nil, errors.New("decision_logs must be a map")
	}
	if len(c.Bundles) == 0 && !c.DecisionLogs {
		return nil, errors.New("configures neither bundles nor decision_logs: nothing for dockward to do")
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c.raw = raw
	return c, nil
}

// boundBuffer makes sure the decision-log buffer is bounded. OPA bounds the
// event buffer (10000 events by default) but not the size buffer (its
// default), unless buffer_size_limit_bytes is set.
func boundBuffer(dl map[string]any) ([]string, error) {
	rep, _ := dl["reporting"].(map[string]any)
	if rep == nil {
		rep = map[string]any{}
		dl["reporting"] = rep
	}
	bufferType, _ := rep["buffer_type"].(string)
	if bufferType == "event" || rep["buffer_size_limit_bytes"] != nil {
		return nil, nil
	}
	if rep["max_decisions_per_second"] != nil {
		return nil, errors.New("decision_logs.reporting: max_decisions_per_second with the size buffer leaves the buffer unbounded; " +
			`use buffer_type: event with buffer_size_limit_events, or set buffer_size_limit_bytes instead`)
	}
	rep["buffer_size_limit_bytes"] = DefaultBufferBytes
	return []string{fmt.Sprintf("decision_logs.reporting.buffer_size_limit_bytes=%d", DefaultBufferBytes)}, nil
}

func supportedKeys() string {
	keys := make([]string, 0, len(supported))
	for k := range supported {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
