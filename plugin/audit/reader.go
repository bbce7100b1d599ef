package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Record is an audit record as read back.
type Record struct {
	Time           time.Time `json:"time"`
	Schema         string    `json:"schema"`
	DecisionID     string    `json:"decision_id"`
	Decision       string    `json:"decision"`
	User           string    `json:"user"`
	AuthnMethod    string    `json:"authn_method"`
	Groups         []string  `json:"groups,omitempty"`
	Level          string    `json:"level,omitempty"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	Endpoint       string    `json:"endpoint"`
	ContainerName  string    `json:"container_name"`
	Image          string    `json:"image"`
	ComposeProject string    `json:"compose_project,omitempty"`
	ComposeService string    `json:"compose_service,omitempty"`
	ComposeObject  string    `json:"compose_object,omitempty"`
	Violations     []Item    `json:"violations"`
	DryRun         []Item    `json:"dryrun,omitempty"`
	Exempted       []Item    `json:"exempted,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	PolicyRevision string    `json:"policy_revision"`
	PluginVersion  string    `json:"plugin_version"`
	LatencyMS      float64   `json:"latency_ms"`
}

// Rules returns the ids of every rule the record names, enforced or not.
func (r *Record) Rules() []string {
	var ids []string
	for _, list := range [][]Item{r.Violations, r.DryRun, r.Exempted} {
		for _, it := range list {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// Filter selects records. Zero fields match everything.
type Filter struct {
	Since, Until time.Time
	User         string
	Group        string // the user was in this group (as the record names their groups)
	Level        string // judged at this level
	Rule         string
	Image        string // exact, or a prefix when it ends in "*"
	Decision     string
	Project      string // the Compose project (exact)
	Service      string // the Compose service (exact)
}

// Match reports whether r passes the filter.
func (f Filter) Match(r *Record) bool {
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && r.Time.After(f.Until) {
		return false
	}
	if f.User != "" && r.User != f.User {
		return false
	}
	if f.Decision != "" && r.Decision != f.Decision {
		return false
	}
	if f.Level != "" && r.Level != f.Level {
		return false
	}
	if f.Project != "" && r.ComposeProject != f.Project {
		return false
	}
	if f.Service != "" && r.ComposeService != f.Service {
		return false
	}
	if f.Group != "" {
		found := false
		for _, g := range r.Groups {
			if g == f.Group {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if f.Image != "" {
		if p, ok := strings.CutSuffix(f.Image, "*"); ok {
			if !strings.HasPrefix(r.Image, p) {
				return false
			}
		} else if r.Image != f.Image {
			return false
		}
	}
	if f.Rule != "" {
		found := false
		for _, id := range r.Rules() {
			if id == f.Rule {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// quickReject skips lines that cannot match before paying for a JSON decode:
// a literal that must appear in the raw line.
func (f Filter) quickReject(line []byte) bool {
	// Only literals that JSON encodes as themselves are safe to look for.
	if f.Rule != "" && plain(f.Rule) && !bytes.Contains(line, []byte(`"`+f.Rule+`"`)) {
		return true
	}
	if f.User != "" && plain(f.User) && !bytes.Contains(line, []byte(`"`+f.User+`"`)) {
		return true
	}
	if f.Group != "" && plain(f.Group) && !bytes.Contains(line, []byte(`"`+f.Group+`"`)) {
		return true
	}
	if f.Service != "" && plain(f.Service) && !bytes.Contains(line, []byte(`"`+f.Service+`"`)) {
		return true
	}
	if f.Decision != "" && !bytes.Contains(line, []byte(`"`+f.Decision+`"`)) {
		return true
	}
	if img := strings.TrimSuffix(f.Image, "*"); img != "" && plain(img) && !bytes.Contains(line, []byte(`"`+img)) {
		return true
	}
	return false
}

// BadLine is a line that is not a valid record (truncated by a crash, edited
// by hand); it is reported and skipped.
type BadLine struct {
	File string
	Line int
	Err  error
}

func (b BadLine) String() string { return fmt.Sprintf("%s:%d: %v", b.File, b.Line, b.Err) }

// Files returns the audit log's files oldest first: rotated backups
// (lumberjack names them <name>-<UTC timestamp><ext>, possibly .gz) by their
// timestamp, then the live file.
func Files(path string) ([]string, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read audit log directory: %w", err)
	}
	var backups []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, prefix) {
			continue
		}
		if strings.HasSuffix(n, ext) || strings.HasSuffix(n, ext+".gz") {
			backups = append(backups, filepath.Join(dir, n))
		}
	}
	sort.Strings(backups) // the timestamp format sorts lexically
	if _, err := os.Stat(path); err == nil {
		backups = append(backups, path)
	} else if len(backups) == 0 {
		return nil, fmt.Errorf("no audit log at %s: %w", path, err)
	}
	return backups, nil
}

// Scan streams every record of the files that passes f to fn, one at a
// time (memory stays flat however large the log), and every bad line to bad.
// fn returning an error stops the scan.
func Scan(ctx context.Context, files []string, f Filter, fn func(*Record) error, bad func(BadLine)) error {
	for _, file := range files {
		if err := scanFile(ctx, file, f, fn, bad); err != nil {
			return err
		}
	}
	return nil
}

func scanFile(ctx context.Context, file string, f Filter, fn func(*Record) error, bad func(BadLine)) error {
	fh, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(file, ".gz") {
		gz, err := gzip.NewReader(fh)
		if err != nil {
			bad(BadLine{File: file, Line: 0, Err: err})
			return nil
		}
		defer gz.Close()
		r = gz
	}
	_, err = ScanReader(ctx, r, file, 0, f, fn, bad)
	return err
}

// ScanReader scans records from r (lines numbered from startLine+1) and
// returns the number of lines read.
func ScanReader(ctx context.Context, r io.Reader, name string, startLine int, f Filter, fn func(*Record) error, bad func(BadLine)) (int, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var parser fastjson.Parser // reused: parsing allocates almost nothing
	n := startLine
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A record over 256 KiB: gather the rest of it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			n++
			if n%4096 == 0 && ctx.Err() != nil {
				return n, ctx.Err()
			}
			trimmed := bytes.TrimSpace(line)
			if len(trimmed) > 0 && !f.quickReject(trimmed) {
				rec, perr := parseRecord(&parser, trimmed)
				switch {
				case perr != nil:
					bad(BadLine{File: name, Line: n, Err: perr})
				case f.Match(rec):
					if ferr := fn(rec); ferr != nil {
						return n, ferr
					}
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func plain(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@:/", c)) {
			return false
		}
	}
	return true
}

// parseRecord reads one line with fastjson: an audit log of a million
// records is scanned in seconds, where encoding/json into Record took ~7 µs
// a line (plugin/BENCHMARKS.md).
func parseRecord(p *fastjson.Parser, line []byte) (*Record, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		return nil, err
	}
	o, err := v.Object()
	if err != nil {
		return nil, errors.New("not a JSON object")
	}
	r := &Record{}
	var terr error
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "time":
			if t, err := time.Parse(time.RFC3339Nano, str(v)); err == nil {
				r.Time = t
			} else {
				terr = fmt.Errorf("bad time: %w", err)
			}
		case KeySchema:
			r.Schema = str(v)
		case KeyDecisionID:
			r.DecisionID = str(v)
		case KeyDecision:
			r.Decision = str(v)
		case KeyUser:
			r.User = str(v)
		case KeyAuthnMethod:
			r.AuthnMethod = str(v)
		case KeyGroups:
			for _, g := range v.GetArray() {
				r.Groups = append(r.Groups, str(g))
			}
		case KeyLevel:
			r.Level = str(v)
		case KeyMethod:
			r.Method = str(v)
		case KeyPath:
			r.Path = str(v)
		case KeyEndpoint:
			r.Endpoint = str(v)
		case KeyContainerName:
			r.ContainerName = str(v)
		case KeyImage:
			r.Image = str(v)
		case KeyComposeProject:
			r.ComposeProject = str(v)
		case KeyComposeService:
			r.ComposeService = str(v)
		case KeyComposeObject:
			r.ComposeObject = str(v)
		case KeyViolations:
			r.Violations = items(v)
		case KeyDryRun:
			r.DryRun = items(v)
		case KeyExempted:
			r.Exempted = items(v)
		case KeyReason:
			r.Reason = str(v)
		case KeyPolicyRevision:
			r.PolicyRevision = str(v)
		case KeyPluginVersion:
			r.PluginVersion = str(v)
		case KeyLatencyMS:
			r.LatencyMS = v.GetFloat64()
		}
	})
	if terr != nil {
		return nil, terr
	}
	if r.Decision == "" {
		return nil, errors.New("not an audit record (no decision)")
	}
	return r, nil
}

func str(v *fastjson.Value) string {
	b, err := v.StringBytes()
	if err != nil {
		return ""
	}
	return string(b)
}

func items(v *fastjson.Value) []Item {
	arr, err := v.Array()
	if err != nil {
		return nil
	}
	out := make([]Item, 0, len(arr))
	for _, e := range arr {
		out = append(out, Item{ID: string(e.GetStringBytes("id")), Msg: string(e.GetStringBytes("msg")),
			Exemption: string(e.GetStringBytes("exemption"))})
	}
	return out
}
