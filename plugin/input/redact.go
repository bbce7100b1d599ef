package input

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// Redacted replaces every secret value in the input document. Keys, names
// and the fact that something was set are kept, so rules and operators still
// see WHAT was set, never its value.
const Redacted = "REDACTED"

// redact removes every secret the input could carry, once the views have
// computed the facts they need (a volume's host path from its options, for
// instance). What is removed, per endpoint, is listed in policies/README.md
// ("Secrets"); the input then goes to Rego, the debug log, the decision log
// and (in part) the audit record, so all of them are safe by construction.
func redact(in *Input) {
	if lb, ok := in.Body.(*LazyBody); ok {
		endpoint := in.Route.Endpoint
		lb.then(func(body any) any { return redactBody(endpoint, body) })
	} else {
		in.Body = redactBody(in.Route.Endpoint, in.Body)
	}
	in.Request.Query = redactQuery(in.Route.Endpoint, in.Request.Query)
	if in.Volume != nil {
		in.Volume.Options = redactVolumeOptions(in.Volume.Options)
	}
	redactContainer(in.Container)
}

func redactContainer(c *Container) {
	if c == nil {
		return
	}
	for i := range c.Mounts {
		c.Mounts[i].VolumeOptions = redactVolumeOptions(c.Mounts[i].VolumeOptions)
	}
	for _, p := range c.Peers {
		redactContainer(p.Container)
	}
}

// redactBody redacts a decoded body: the typed views' canonical re-encoding
// or, for endpoints without a view, the JSON as sent. Keys are matched
// case-insensitively, as the daemon's decoder matches them.
func redactBody(endpoint string, body any) any {
	switch endpoint {
	case "plugin.set":
		// ["KEY=value", ...]: settings of a plugin (credentials, often).
		if list, ok := body.([]any); ok {
			for i, e := range list {
				list[i] = redactAssignment(e)
			}
		}
	case "secret.create", "secret.update", "config.create", "config.update":
		if m, ok := body.(map[string]any); ok {
			for k, val := range m {
				switch {
				case strings.EqualFold(k, "Data"):
					m[k] = redactValue(k, val)
				case strings.EqualFold(k, "Driver"), strings.EqualFold(k, "Templating"):
					redactOptions(val, "Options", redactValue)
				}
			}
		}
	case "volume.create":
		if m, ok := body.(map[string]any); ok {
			for k, val := range m {
				if strings.EqualFold(k, "DriverOpts") {
					redactMapValues(val, volumeOption)
				}
			}
		}
	}
	redactWalk(body)
	return body
}

// secretKeys are fields whose value is a secret wherever they appear:
// swarm tokens and keys (swarm join, unlock, init, update) and a registry
// AuthConfig (POST /auth, and an image push body on 20.10, which reads its
// credentials from the body when there is no X-Registry-Auth header).
var secretKeys = []string{"JoinToken", "UnlockKey", "SigningCAKey", "Password", "Auth", "IdentityToken", "RegistryToken"}

// redactWalk applies the rules that hold at any depth of any body.
func redactWalk(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			switch {
			case strings.EqualFold(k, "Env"):
				// Container, exec, service and plugin-service Env: names only.
				if list, ok := val.([]any); ok {
					for i, e := range list {
						if s, ok := e.(string); ok {
							list[i] = EnvName(s)
						} else if e != nil {
							list[i] = Redacted
						}
					}
					continue
				}
			case strings.EqualFold(k, "LogConfig"):
				// HostConfig.LogConfig.Config: splunk-token, loki-url with
				// credentials, cloud keys: every value.
				redactOptions(val, "Config", redactValue)
			case strings.EqualFold(k, "LogDriver"):
				// TaskTemplate.LogDriver, swarm TaskDefaults.LogDriver.
				redactOptions(val, "Options", redactValue)
			case strings.EqualFold(k, "DriverConfig"):
				// Mounts[].VolumeOptions.DriverConfig: volume options.
				redactOptions(val, "Options", volumeOption)
			case strings.EqualFold(k, "ExternalCAs"):
				// swarm CAConfig.ExternalCAs[].Options (a cfssl token).
				if list, ok := val.([]any); ok {
					for _, ca := range list {
						redactOptions(ca, "Options", redactValue)
					}
				}
			case matchesAny(k, secretKeys):
				t[k] = redactValue(k, val)
				continue
			}
			redactWalk(val)
		}
	case []any:
		for _, e := range t {
			redactWalk(e)
		}
	}
}

// redactOptions redacts the values of the map under key (any case) of obj.
func redactOptions(obj any, key string, value func(k string, v any) any) {
	m, ok := obj.(map[string]any)
	if !ok {
		return
	}
	for k, val := range m {
		if strings.EqualFold(k, key) {
			redactMapValues(val, value)
		}
	}
}

func redactMapValues(m any, value func(k string, v any) any) {
	opts, ok := m.(map[string]any)
	if !ok {
		return
	}
	for k, v := range opts {
		opts[k] = value(k, v)
	}
}

// redactValue replaces any value that is set; null and "" say nothing.
func redactValue(_ string, v any) any {
	if v == nil || v == "" {
		return v
	}
	return Redacted
}

// redactAssignment turns "KEY=value" into "KEY=REDACTED".
func redactAssignment(e any) any {
	s, ok := e.(string)
	if !ok {
		return redactValue("", e)
	}
	if name, _, found := strings.Cut(s, "="); found {
		return name + "=" + Redacted
	}
	return s
}

// volumeOption redacts one volume driver option (volume create DriverOpts,
// a mount's DriverConfig.Options, an existing volume's options). The local
// driver's own options stay readable, because rules judge what they mount:
// `type` and `size` as they are, `device` without the user:password@ of a
// remote share, `o` item by item with credential items (password=,
// username=, cred=, secret=, token=, key=, ...) redacted. Every other
// option (those of volume plugins) is redacted: dockward cannot know which
// of them are credentials.
func volumeOption(k string, v any) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return redactValue(k, v)
	}
	switch strings.ToLower(k) {
	case "type", "size":
		return s
	case "device":
		return redactUserinfo(s)
	case "o":
		return redactMountOptions(s)
	}
	return Redacted
}

func redactVolumeOptions(opts map[string]string) map[string]string {
	if opts == nil {
		return nil
	}
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		out[k] = volumeOption(k, v).(string)
	}
	return out
}

// credentialWords mark a mount option (or query parameter) as a credential
// when its name contains one of them, in any case.
var credentialWords = []string{"pass", "pwd", "user", "cred", "secret", "token", "key", "auth", "sig"}

func credentialName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// redactMountOptions redacts the credential items of a mount option
// string ("addr=h,username=u,password=p"). A doubled comma is a literal
// comma inside a value (mount.cifs passwords), never a separator.
func redactMountOptions(o string) string {
	items := splitMountOptions(o)
	for i, it := range items {
		if name, _, found := strings.Cut(it, "="); found && credentialName(name) {
			items[i] = name + "=" + Redacted
		}
	}
	return strings.Join(items, ",")
}

func splitMountOptions(o string) []string {
	var items []string
	start := 0
	for i := 0; i < len(o); i++ {
		if o[i] != ',' {
			continue
		}
		if i+1 < len(o) && o[i+1] == ',' {
			i++ // ",," is an escaped comma
			continue
		}
		items = append(items, o[start:i])
		start = i + 1
	}
	return append(items, o[start:])
}

// redactUserinfo removes the user[:password] of a URL (https://u:t@host/x,
// with its query values too: pre-signed URLs carry their signature there),
// of a share (//u:p@host/share) or of an scp-style remote (u:p@host:path).
// A value without one is returned as it is.
func redactUserinfo(s string) string {
	if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, "/@") {
		u, err := url.Parse(s)
		if err != nil {
			return Redacted // cannot tell which part is the secret
		}
		if u.User != nil {
			u.User = url.User(Redacted)
		}
		if u.RawQuery != "" {
			q := u.Query()
			for name, vals := range q {
				for i := range vals {
					vals[i] = Redacted
				}
				q[name] = vals
			}
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	prefix, rest := "", s
	if strings.HasPrefix(s, "//") {
		prefix, rest = "//", s[2:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		return s // an @ in a path (/srv/a@b), not a user
	}
	return prefix + Redacted + rest[at:]
}

// redactQuery redacts the query parameters that carry secrets. Parameter
// names are matched in any case (the daemon reads them case-sensitively, so
// a variant is inert, but it would still be logged).
func redactQuery(endpoint string, q map[string][]string) map[string][]string {
	if endpoint != "build" && endpoint != "image.create" && endpoint != "container.commit" {
		return q // nothing to redact: reads stay as cheap as they were
	}
	out := make(map[string][]string, len(q))
	for name, vals := range q {
		var f func(string) string
		switch {
		case endpoint == "build" && strings.EqualFold(name, "buildargs"):
			f = redactBuildArgs // JSON {"NAME": "value"}: names kept
		case endpoint == "build" && strings.EqualFold(name, "remote"):
			f = redactUserinfo // a git or tarball URL with user:token@
		case endpoint == "image.create" && strings.EqualFold(name, "fromSrc"):
			f = redactUserinfo // docker import URL
		case endpoint != "build" && strings.EqualFold(name, "changes"):
			f = redactChanges // docker commit/import --change 'ENV PW=...'
		}
		if f == nil {
			out[name] = vals
			continue
		}
		red := make([]string, len(vals))
		for i, v := range vals {
			red[i] = f(v)
		}
		out[name] = red
	}
	return out
}

// redactBuildArgs keeps the names of --build-arg values; a buildargs the
// daemon could not decode is replaced whole.
func redactBuildArgs(v string) string {
	var args map[string]*string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		return Redacted
	}
	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]*string, len(args))
	marker := Redacted
	for _, name := range names {
		if args[name] == nil {
			out[name] = nil // taken from the builder's environment: no value sent
		} else {
			out[name] = &marker
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return Redacted
	}
	return string(b)
}

// redactChanges redacts the ENV instructions of --change values (Dockerfile
// lines, which the daemon joins and parses; a trailing backslash continues
// the instruction on the next line).
func redactChanges(v string) string {
	lines := strings.Split(v, "\n")
	env, cont := false, false
	for i, line := range lines {
		if !cont {
			fields := strings.Fields(line)
			env = len(fields) > 0 && strings.EqualFold(fields[0], "ENV")
		}
		if env && cont {
			lines[i] = Redacted // the value goes on
		} else if env {
			lines[i] = "ENV " + Redacted
		}
		cont = strings.HasSuffix(strings.TrimRight(line, " \t\r"), `\`)
	}
	return strings.Join(lines, "\n")
}
