package input

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Security is HostConfig.SecurityOpt parsed as the daemon parses it
// (daemon/daemon_unix.go parseSecurityOpt).
type Security struct {
	NoNewPrivileges bool   `json:"no_new_privileges"`
	Seccomp         string `json:"seccomp"`
	// SeccompDefaultAction is an inline profile's defaultAction as the
	// daemon decodes it ("" for a named profile or none): SCMP_ACT_ALLOW,
	// LOG, TRACE or NOTIFY lets every syscall the profile does not list.
	SeccompDefaultAction string   `json:"seccomp_default_action"`
	AppArmor             string   `json:"apparmor"`
	Labels               []string `json:"labels"`
	Invalid              []string `json:"invalid"`
}

// ParseSecurityOpts applies the options in order, as the daemon does, so the
// last no-new-privileges wins and "=false" switches it off (B14). A key is
// split at the first "=" or, failing that, the first ":" (the deprecated
// separator the daemon still honours).
func ParseSecurityOpts(opts []string) Security {
	s := Security{Labels: []string{}, Invalid: []string{}}
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges":
			s.NoNewPrivileges = true
			continue
		case "disable":
			s.Labels = append(s.Labels, "disable")
			continue
		}
		var key, val string
		var ok bool
		if strings.Contains(opt, "=") {
			key, val, ok = strings.Cut(opt, "=")
		} else {
			key, val, ok = strings.Cut(opt, ":")
		}
		if !ok {
			s.Invalid = append(s.Invalid, opt)
			continue
		}
		switch key {
		case "label":
			s.Labels = append(s.Labels, val)
		case "apparmor":
			s.AppArmor = val
		case "seccomp":
			s.Seccomp = profileName(val)
			s.SeccompDefaultAction = ""
			if s.Seccomp == "<inline>" {
				// The daemon decodes the profile with encoding/json
				// (case-insensitive keys, last duplicate wins); one it
				// cannot decode fails the create.
				var p struct {
					DefaultAction string `json:"defaultAction"`
				}
				if err := json.Unmarshal([]byte(val), &p); err != nil {
					s.Invalid = append(s.Invalid, "seccomp=<inline profile that is not JSON>")
					continue
				}
				s.SeccompDefaultAction = p.DefaultAction
			}
		case "no-new-privileges":
			b, err := strconv.ParseBool(val)
			if err != nil {
				s.Invalid = append(s.Invalid, opt)
				continue
			}
			s.NoNewPrivileges = b
		default:
			s.Invalid = append(s.Invalid, opt)
		}
	}
	return s
}

// profileName keeps a seccomp profile's name but not an inline JSON profile
// (the docker CLI sends the file's content), which only bloats the input.
func profileName(v string) string {
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		return "<inline>"
	}
	return v
}
