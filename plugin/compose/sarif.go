package compose

import (
	"fmt"

	"github.com/dockward/dockward/plugin/decision"
)

// SARIF 2.1.0 (OASIS), the format code-scanning UIs read: one result per
// violation, at the file and line of the service (or network, volume) in
// the Compose file.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	ShortDescription sarifText      `json:"shortDescription"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

// SARIF renders the report. base is the directory paths are shown
// relative to (the working directory); version is dockward's.
func (r *Report) SARIF(base, version string) any {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "dockward",
		InformationURI: "https://github.com/dockward/dockward", Version: version, Rules: []sarifRule{}}},
		Results: []sarifResult{}}
	index := map[string]int{}
	add := func(what, file string, line int, v decision.Violation, level string) {
		i, ok := index[v.ID]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[v.ID] = i
			rule := sarifRule{ID: v.ID, ShortDescription: sarifText{orID(v.Title, v.ID)}, Help: sarifText{v.Fix}}
			if v.Severity != "" {
				rule.Properties = map[string]any{"severity": v.Severity}
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
		}
		text := fmt.Sprintf("%s: %s", what, v.Msg)
		if v.Fix != "" {
			text += " — fix: " + v.Fix
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(RelPath(base, file))}}}
		if line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
		}
		res := sarifResult{RuleID: v.ID, RuleIndex: i, Level: level, Message: sarifText{text}}
		if file != "" {
			res.Locations = []sarifLocation{loc}
		}
		run.Results = append(run.Results, res)
	}
	emit := func(what, file string, line int, d decision.Decision) {
		for _, v := range d.Violations {
			add(what, file, line, v, "error")
		}
		for _, v := range d.DryRun {
			add(what, file, line, v, "warning")
		}
	}
	for _, s := range r.Services {
		emit("service "+s.Name, s.File, s.Line, s.Decision())
	}
	for _, o := range r.Resources {
		section := map[string]string{"network": "networks", "volume": "volumes"}[o.Kind]
		file, line := "", 0
		if section != "" {
			file, line = Locate(r.Files, section, o.Key)
		} else if len(r.Files) > 0 {
			file = r.Files[0]
		}
		emit(o.Kind+" "+o.Name, file, line, o.Result.Decision)
	}
	internal, _ := r.Internal()
	run.Invocations = []sarifInvocation{{ExecutionSuccessful: !internal}}
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
}

func orID(title, id string) string {
	if title != "" {
		return title
	}
	return id
}
