// Package config is dockward's configuration: defaults, then a YAML file,
// then command-line flags, then Validate. Only the cli package reads it; the
// values travel down as plain option structs.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is read when it exists and --config is not given.
const DefaultFile = "/etc/dockward/config.yaml"

// Config is everything `dockward serve` needs.
type Config struct {
	Socket          string        `yaml:"socket"`
	PolicyDir       string        `yaml:"policy_dir"`
	AuditLog        string        `yaml:"audit_log"`
	AuditAllows     bool          `yaml:"audit_allows"`
	AuditMaxSizeMB  int           `yaml:"audit_max_size_mb"`
	AuditMaxBackups int           `yaml:"audit_max_backups"`
	EvalTimeout     time.Duration `yaml:"eval_timeout"`
	LogLevel        string        `yaml:"log_level"`
	// DockerHost is the daemon dockward guards, asked about the images,
	// containers and volumes a request refers to.
	DockerHost    string        `yaml:"docker_host"`
	LookupTimeout time.Duration `yaml:"lookup_timeout"`
	// MetricsAddr, when set, serves /metrics and /healthz; a bare port
	// (":9464") listens on loopback.
	MetricsAddr string `yaml:"metrics_addr"`
	// HostRoot, when set, is where the host's / is mounted (a managed
	// plugin: /host); bind sources are resolved under it. Empty resolves
	// on the local filesystem.
	HostRoot string `yaml:"host_root"`
	// ReadCacheTTL keeps decisions on reads this long (0 disables).
	ReadCacheTTL time.Duration `yaml:"read_cache_ttl"`
	// DecisionCacheTTL keeps the decisions on every other request this
	// long, keyed by the policy revision and the whole input (every fact
	// looked up included), 0 disables.
	DecisionCacheTTL time.Duration `yaml:"decision_cache_ttl"`
	// LookupCacheTTL keeps the daemon's answers to lookups at most this
	// long (dropped sooner by any write or daemon event that may change
	// them); 0 disables.
	LookupCacheTTL time.Duration `yaml:"lookup_cache_ttl"`
	// OPAConfig, when set, is a standard OPA configuration file: policy
	// bundles from a bundle server and remote decision logs.
	OPAConfig string `yaml:"opa_config"`
	// BundleFallback is what decides until the first bundle is in force:
	// "local" (the policy directory) or "deny" (every request is denied).
	BundleFallback string `yaml:"bundle_fallback"`
	// BundleAllowUnsigned lets the OPA config poll bundles that are not
	// signed (no signing block): an explicit opt-out, refused otherwise.
	BundleAllowUnsigned bool `yaml:"bundle_allow_unsigned"`
	// OwnerDB is the ownership store (who created each container,
	// service, volume and network; owner_only reads it).
	OwnerDB string `yaml:"owner_db"`
	// OwnerMaxRecords bounds it; when full the oldest record is evicted
	// (that object then belongs to nobody: admins only).
	OwnerMaxRecords int `yaml:"owner_max_records"`
	// ControlSocket is the root-only socket `dockward own` talks to.
	ControlSocket string `yaml:"control_socket"`
	// CanaryInterval is how often serve sends the enforcement canary (a
	// create the policy must deny) through docker_host; 0 disables it.
	CanaryInterval time.Duration `yaml:"canary_interval"`
	// MemoryLimitMiB is the Go runtime's soft memory limit for the plugin
	// (GOMEMLIMIT, which wins when set): the collector works harder as the
	// process nears it, which keeps the RSS under 40 MiB on a busy host
	// (plugin/BENCHMARKS.md) for less CPU than a lower GOGC. It never goes
	// below twice the live heap (a large policy or bundle raises it), so
	// the collector cannot thrash. 0 disables.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	// Identity, when the file has an identity: section, is the identity
	// broker's layout (the broker serves Socket and forwards to Upstream;
	// dockerd's own unix socket is RawSocket). nil: identity is off. Read
	// by `dockward broker`, `identity init`, daemon-config and doctor;
	// serve only validates it (its docker_host names the raw socket when
	// identity is on).
	Identity *Identity `yaml:"identity"`
}

// Identity is the identity broker's layout (config.yaml, identity:).
type Identity struct {
	// Socket is what users talk to (root:SocketGroup 0660).
	Socket      string `yaml:"socket"`
	SocketGroup string `yaml:"socket_group"`
	// Upstream is dockerd's TLS listener, on loopback only.
	Upstream string `yaml:"upstream"`
	// RawSocket is dockerd's root-only unix socket.
	RawSocket string `yaml:"raw_socket"`
	// PKIDir holds ca.pem, ca-key.pem, server-cert.pem, server-key.pem.
	PKIDir string `yaml:"pki_dir"`
	// ClientCertTTL is the life of a minted client certificate.
	ClientCertTTL time.Duration `yaml:"client_cert_ttl"`
}

// DefaultIdentity is the identity layout of install.sh --identity.
func DefaultIdentity() Identity {
	return Identity{
		Socket:        "/var/run/docker.sock",
		SocketGroup:   "docker",
		Upstream:      "tcp://127.0.0.1:2376",
		RawSocket:     "/run/dockward/docker-root.sock",
		PKIDir:        "/etc/dockward/identity",
		ClientCertTTL: 24 * time.Hour,
	}
}

// WithDefaults fills the keys the file left out.
func (i Identity) WithDefaults() Identity {
	d := DefaultIdentity()
	if i.Socket == "" {
		i.Socket = d.Socket
	}
	if i.SocketGroup == "" {
		i.SocketGroup = d.SocketGroup
	}
	if i.Upstream == "" {
		i.Upstream = d.Upstream
	}
	if i.RawSocket == "" {
		i.RawSocket = d.RawSocket
	}
	if i.PKIDir == "" {
		i.PKIDir = d.PKIDir
	}
	if i.ClientCertTTL == 0 {
		i.ClientCertTTL = d.ClientCertTTL
	}
	return i
}

// Validate reports the first invalid identity value (of a layout with its
// defaults filled in) that makes the section unreadable. A layout that
// reads but is unsafe (see Check) is still loaded, so that doctor can say
// what is wrong with it and serve, which does not use it, still starts.
func (id Identity) Validate() error {
	for name, p := range map[string]string{"identity.socket": id.Socket, "identity.raw_socket": id.RawSocket, "identity.pki_dir": id.PKIDir} {
		if p == "" || !filepath.IsAbs(p) {
			return fmt.Errorf("invalid %s %q: must be an absolute path", name, p)
		}
	}
	if !strings.HasPrefix(id.Upstream, "tcp://") {
		return fmt.Errorf("invalid identity.upstream %q: expected tcp://127.0.0.1:PORT (dockerd's TLS listener on loopback)", id.Upstream)
	}
	if id.ClientCertTTL < 10*time.Minute || id.ClientCertTTL > 30*24*time.Hour {
		return fmt.Errorf("invalid identity.client_cert_ttl %q: between 10m and 720h", id.ClientCertTTL)
	}
	return nil
}

// Check is Validate plus what the broker, identity init and daemon-config
// refuse to act on: an upstream off loopback (the TLS port would take
// users' certificates from the network), the raw socket at the users'
// socket (users would talk to dockerd, as nobody), no socket group.
func (id Identity) Check() error {
	if err := id.Validate(); err != nil {
		return err
	}
	if id.Socket == id.RawSocket {
		return fmt.Errorf("invalid identity.raw_socket %q: must differ from identity.socket (users talk to the broker, only root to dockerd)", id.RawSocket)
	}
	if id.SocketGroup == "" {
		return errors.New("invalid identity.socket_group \"\": name the group whose members may use docker (docker)")
	}
	host, port, err := net.SplitHostPort(strings.TrimPrefix(id.Upstream, "tcp://"))
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || port == "" {
		return fmt.Errorf("invalid identity.upstream %q: expected tcp://127.0.0.1:PORT (dockerd's TLS listener, loopback only)", id.Upstream)
	}
	return nil
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Socket:           "/run/docker/plugins/dockward.sock",
		PolicyDir:        "/etc/dockward/policies",
		AuditLog:         "/var/log/dockward/audit.log",
		AuditMaxSizeMB:   100,
		AuditMaxBackups:  10,
		EvalTimeout:      5 * time.Second,
		LogLevel:         "info",
		DockerHost:       "unix:///var/run/docker.sock",
		LookupTimeout:    2 * time.Second,
		ReadCacheTTL:     time.Second,
		DecisionCacheTTL: time.Second,
		LookupCacheTTL:   2 * time.Second,
		BundleFallback:   "local",
		OwnerDB:          "/var/lib/dockward/owners.db",
		OwnerMaxRecords:  100_000,
		ControlSocket:    "/run/dockward/control.sock",
		CanaryInterval:   5 * time.Minute,
		MemoryLimitMiB:   22,
	}
}

// LoadFile merges the YAML file at path over c. A missing file is an error
// only when required (the user named it with --config).
func (c *Config) LoadFile(path string, required bool) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("parse config %s: %w", path, err)
	}
	return nil
}

// Validate reports the first invalid value, saying what is expected.
func (c Config) Validate() error {
	for name, p := range map[string]string{"socket": c.Socket, "policy_dir": c.PolicyDir, "audit_log": c.AuditLog,
		"owner_db": c.OwnerDB, "control_socket": c.ControlSocket} {
		if p == "" || !filepath.IsAbs(p) {
			return fmt.Errorf("invalid %s %q: must be an absolute path", name, p)
		}
	}
	if c.OPAConfig != "" && !filepath.IsAbs(c.OPAConfig) {
		return fmt.Errorf("invalid opa_config %q: must be an absolute path", c.OPAConfig)
	}
	if c.BundleFallback != "local" && c.BundleFallback != "deny" {
		return fmt.Errorf("invalid bundle_fallback %q: expected local or deny", c.BundleFallback)
	}
	if c.BundleFallback == "deny" && c.OPAConfig == "" {
		return fmt.Errorf("invalid bundle_fallback %q: only meaningful with opa_config (bundles)", c.BundleFallback)
	}
	if c.BundleAllowUnsigned && c.OPAConfig == "" {
		return errors.New("invalid bundle_allow_unsigned: only meaningful with opa_config (bundles)")
	}
	if c.HostRoot != "" && !filepath.IsAbs(c.HostRoot) {
		return fmt.Errorf("invalid host_root %q: must be an absolute path", c.HostRoot)
	}
	if c.EvalTimeout <= 0 {
		return fmt.Errorf("invalid eval_timeout %q: must be > 0", c.EvalTimeout)
	}
	if c.ReadCacheTTL < 0 {
		return fmt.Errorf("invalid read_cache_ttl %q: must be >= 0 (0 disables)", c.ReadCacheTTL)
	}
	if c.DecisionCacheTTL < 0 {
		return fmt.Errorf("invalid decision_cache_ttl %q: must be >= 0 (0 disables)", c.DecisionCacheTTL)
	}
	if c.LookupCacheTTL < 0 {
		return fmt.Errorf("invalid lookup_cache_ttl %q: must be >= 0 (0 disables)", c.LookupCacheTTL)
	}
	if c.Identity != nil {
		if err := c.Identity.WithDefaults().Validate(); err != nil {
			return err
		}
	}
	if c.CanaryInterval < 0 {
		return fmt.Errorf("invalid canary_interval %q: must be >= 0 (0 disables)", c.CanaryInterval)
	}
	if c.MemoryLimitMiB < 0 {
		return fmt.Errorf("invalid memory_limit_mib %d: must be >= 0 (0 disables)", c.MemoryLimitMiB)
	}
	if c.LookupTimeout <= 0 {
		return fmt.Errorf("invalid lookup_timeout %q: must be > 0", c.LookupTimeout)
	}
	if !strings.HasPrefix(c.DockerHost, "unix://") && !strings.HasPrefix(c.DockerHost, "tcp://") {
		return fmt.Errorf("invalid docker_host %q: expected unix:///path or tcp://host:port", c.DockerHost)
	}
	if c.OwnerMaxRecords <= 0 {
		return fmt.Errorf("invalid owner_max_records %d: must be > 0", c.OwnerMaxRecords)
	}
	if c.AuditMaxSizeMB <= 0 {
		return fmt.Errorf("invalid audit_max_size_mb %d: must be > 0", c.AuditMaxSizeMB)
	}
	if c.AuditMaxBackups < 0 {
		return fmt.Errorf("invalid audit_max_backups %d: must be >= 0", c.AuditMaxBackups)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("invalid log_level %q: expected debug, info, warn or error", c.LogLevel)
	}
	return nil
}
