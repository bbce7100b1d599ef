package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadFileAndValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(c Config) bool
	}{
		{name: "overrides", yaml: "policy_dir: /srv/p\naudit_allows: true\neval_timeout: 500ms\n",
			check: func(c Config) bool {
				return c.PolicyDir == "/srv/p" && c.AuditAllows && c.EvalTimeout == 500*time.Millisecond &&
					c.Socket == Default().Socket
			}},
		{name: "misspelt key", yaml: "polcy_dir: /x\n", wantErr: "field polcy_dir not found"},
		{name: "relative path", yaml: "audit_log: audit.log\n", wantErr: `invalid audit_log "audit.log": must be an absolute path`},
		{name: "zero timeout", yaml: "eval_timeout: 0s\n", wantErr: "invalid eval_timeout"},
		{name: "bad level", yaml: "log_level: loud\n", wantErr: `invalid log_level "loud"`},
		{name: "fleet", yaml: "opa_config: /etc/dockward/opa.yaml\nbundle_fallback: deny\n",
			check: func(c Config) bool { return c.OPAConfig == "/etc/dockward/opa.yaml" && c.BundleFallback == "deny" }},
		{name: "fallback defaults to local", yaml: "opa_config: /etc/dockward/opa.yaml\n",
			check: func(c Config) bool { return c.BundleFallback == "local" }},
		{name: "bad fallback", yaml: "opa_config: /o.yaml\nbundle_fallback: allow\n", wantErr: `invalid bundle_fallback "allow": expected local or deny`},
		{name: "deny without bundles", yaml: "bundle_fallback: deny\n", wantErr: "only meaningful with opa_config"},
		{name: "relative opa config", yaml: "opa_config: opa.yaml\n", wantErr: `invalid opa_config "opa.yaml"`},
		{name: "relative owner db", yaml: "owner_db: owners.db\n", wantErr: `invalid owner_db "owners.db": must be an absolute path`},
		{name: "relative control socket", yaml: "control_socket: c.sock\n", wantErr: `invalid control_socket "c.sock"`},
		{name: "no owner records", yaml: "owner_max_records: 0\n", wantErr: "invalid owner_max_records 0"},
		{name: "unsigned bundles without bundles", yaml: "bundle_allow_unsigned: true\n", wantErr: "invalid bundle_allow_unsigned"},
		{name: "canary default", yaml: "log_level: warn\n", check: func(c Config) bool { return c.CanaryInterval == 5*time.Minute && c.Identity == nil }},
		{name: "canary off", yaml: "canary_interval: 0s\n", check: func(c Config) bool { return c.CanaryInterval == 0 }},
		{name: "negative canary", yaml: "canary_interval: -1s\n", wantErr: "invalid canary_interval"},
		{name: "identity on with defaults", yaml: "identity: {}\n", check: func(c Config) bool {
			return c.Identity != nil && c.Identity.WithDefaults() == DefaultIdentity()
		}},
		{name: "identity keys", yaml: "identity:\n  socket: /run/u.sock\n  upstream: tcp://127.0.0.1:12376\n  raw_socket: /run/r.sock\n  pki_dir: /srv/pki\n  socket_group: devs\n  client_cert_ttl: 1h\n",
			check: func(c Config) bool {
				return *c.Identity == Identity{Socket: "/run/u.sock", Upstream: "tcp://127.0.0.1:12376", RawSocket: "/run/r.sock", PKIDir: "/srv/pki", SocketGroup: "devs", ClientCertTTL: time.Hour}
			}},
		{name: "identity partial keeps defaults", yaml: "identity:\n  upstream: tcp://127.0.0.1:12376\n",
			check: func(c Config) bool {
				id := c.Identity.WithDefaults()
				return id.Socket == "/var/run/docker.sock" && id.PKIDir == "/etc/dockward/identity" && id.Upstream == "tcp://127.0.0.1:12376"
			}},
		{name: "identity relative raw socket", yaml: "identity:\n  raw_socket: r.sock\n", wantErr: `invalid identity.raw_socket "r.sock"`},
		{name: "identity upstream not tcp", yaml: "identity:\n  upstream: unix:///x\n", wantErr: "invalid identity.upstream"},
		{name: "identity relative pki", yaml: "identity:\n  pki_dir: pki\n", wantErr: "invalid identity.pki_dir"},
		{name: "identity ttl too long", yaml: "identity:\n  client_cert_ttl: 8760h\n", wantErr: "client_cert_ttl"},
		{name: "identity off loopback still loads (doctor reports it)", yaml: "identity:\n  upstream: tcp://0.0.0.0:2376\n",
			check: func(c Config) bool { return c.Identity.WithDefaults().Check() != nil }},
		{name: "identity misspelt key", yaml: "identity:\n  pki: /x\n", wantErr: "field pki not found"},
		{name: "unsigned bundles, opted out", yaml: "opa_config: /o.yaml\nbundle_allow_unsigned: true\n", check: func(c Config) bool { return c.BundleAllowUnsigned }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			c := Default()
			err := c.LoadFile(path, true)
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("err %v config %+v", err, c)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := c.LoadFile("/nonexistent/dockward.yaml", false); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	if err := c.LoadFile("/nonexistent/dockward.yaml", true); err == nil {
		t.Error("required missing file: no error")
	}
}

// The annotated config install.sh ships holds the built-in defaults, so a
// host installed from it and one run with no config behave the same (one
// eval_timeout, not 5 s in code and 2 s in the file).
func TestShippedConfigIsTheDefault(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := c.LoadFile("../../install/config.yaml", true); err != nil {
		t.Fatal(err)
	}
	if c != Default() {
		t.Fatalf("install/config.yaml differs from Default():\n file    %+v\n default %+v", c, Default())
	}
	if c.EvalTimeout != 5*time.Second {
		t.Fatalf("eval_timeout %s: the README and --help say 5s", c.EvalTimeout)
	}
}

func TestIdentityCheck(t *testing.T) {
	t.Parallel()
	good := DefaultIdentity()
	if err := good.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Identity)
		want string
	}{
		{"upstream off loopback", func(i *Identity) { i.Upstream = "tcp://0.0.0.0:2376" }, "loopback only"},
		{"upstream a name", func(i *Identity) { i.Upstream = "tcp://docker.example:2376" }, "loopback only"},
		{"upstream without port", func(i *Identity) { i.Upstream = "tcp://127.0.0.1" }, "loopback only"},
		{"raw socket is the users' socket", func(i *Identity) { i.RawSocket = i.Socket }, "must differ"},
		{"no socket group", func(i *Identity) { i.SocketGroup = "" }, "socket_group"},
		{"relative pki dir", func(i *Identity) { i.PKIDir = "pki" }, "identity.pki_dir"},
	} {
		id := good
		c.edit(&id)
		if err := id.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
