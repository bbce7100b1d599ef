package daemon

import (
	"strconv"
	"strings"
)

// KnownBypass says which published authorization-plugin bypass affects an
// engine version, or "" when none is known. An authz plugin cannot close
// these: the daemon does not show it the body it then executes.
func KnownBypass(engine string) string {
	v, ok := parse(engine)
	if !ok {
		return ""
	}
	var found []string
	// CVE-2024-41110: a request with Content-Length 0 reached the plugin
	// without its body. Fixed in 23.0.15, 25.0.6, 26.1.5, 27.1.1.
	if before(v, fixedIn(v[0], map[int][3]int{23: {23, 0, 15}, 25: {25, 0, 6}, 26: {26, 1, 5}, 27: {27, 1, 1}}, [3]int{27, 1, 1})) {
		found = append(found, "CVE-2024-41110 (body not forwarded for Content-Length: 0; upgrade to 27.1.1, 26.1.5, 25.0.6 or 23.0.15)")
	}
	// CVE-2026-34040: a body over 1 MiB was dropped before the plugin and
	// still executed. Fixed in 29.3.1.
	if before(v, [3]int{29, 3, 1}) {
		found = append(found, "CVE-2026-34040 (bodies over 1 MiB not forwarded; upgrade to 29.3.1)")
	}
	return strings.Join(found, "; ")
}

// fixedIn returns the fix for v's release line, or dflt for lines without one.
func fixedIn(major int, fixes map[int][3]int, dflt [3]int) [3]int {
	if f, ok := fixes[major]; ok {
		return f
	}
	if major < 23 {
		return [3]int{major + 1, 0, 0} // older lines were never fixed
	}
	return dflt
}

func before(v, fix [3]int) bool {
	for i := range 3 {
		if v[i] != fix[i] {
			return v[i] < fix[i]
		}
	}
	return false
}

// parse reads "20.10.24+dfsg1" or "27.1.1". A daemon built from source
// without release ldflags reports "library-import": unknown, no warning.
func parse(s string) ([3]int, bool) {
	var v [3]int
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "+-~ "); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return v, false
	}
	for i := 0; i < 3 && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// VersionKnown reports whether an engine version can be read, so that
// KnownBypass's "" means "none known" rather than "cannot tell" (a daemon
// built from source reports "library-import").
func VersionKnown(engine string) bool {
	_, ok := parse(engine)
	return ok
}
