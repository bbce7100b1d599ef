package input

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// Container is what a container create would let the container do, in one
// shape whatever the API version or body form (policies/README.md).
type Container struct {
	Name              string            `json:"name"`
	Image             string            `json:"image"`
	ImageRef          *ImageRef         `json:"image_ref"` // Image normalized; ids resolved to their names
	User              ContainerUser     `json:"user"`
	ReadOnly          bool              `json:"read_only"`
	Privileged        bool              `json:"privileged"`
	CapAdd            []string          `json:"cap_add"`
	CapDrop           []string          `json:"cap_drop"`
	Security          Security          `json:"security"`
	MaskedPathsSet    bool              `json:"masked_paths_set"`
	ReadonlyPathsSet  bool              `json:"readonly_paths_set"`
	Mounts            []Mount           `json:"mounts"`
	VolumesFrom       []string          `json:"volumes_from"`
	Ports             []Port            `json:"ports"`
	PublishAll        bool              `json:"publish_all"`
	Resources         Resources         `json:"resources"`
	Namespaces        Namespaces        `json:"namespaces"`
	Devices           []Device          `json:"devices"`
	DeviceCgroupRules []string          `json:"device_cgroup_rules"`
	DeviceRequests    []DeviceRequest   `json:"device_requests"`
	Sysctls           map[string]string `json:"sysctls"`
	EnvNames          []string          `json:"env_names"`
	// Annotations are HostConfig.Annotations, handed to the runtime in the
	// OCI spec (runc and crun read some: org.systemd.property.*, run.oci.*).
	Annotations map[string]string `json:"annotations"`
	// Ulimits are HostConfig.Ulimits: the daemon sets them as the
	// container's rlimits, above the host's defaults if asked.
	Ulimits []Ulimit `json:"ulimits"`
	// Peers are the containers this one shares namespaces or volumes with
	// (container:<name> modes, --volumes-from), as the daemon has them.
	Peers []Peer `json:"peers"`
	// Networks are the user-defined networks the container joins, looked
	// up on the daemon (network.go); null for a joined peer.
	Networks []Network `json:"networks"`
	// Compose is the Compose project and service of the container (its
	// labels), or absent: fixes are then spelt as Compose keys.
	Compose *Compose `json:"compose,omitempty"`
}

// Peer is another container this one joins.
type Peer struct {
	Via    string `json:"via"` // network, pid, ipc, uts, userns, cgroupns or volumes_from
	Target string `json:"target"`
	// Through are the containers between this one and the peer: [] for a
	// container joined directly, ["A"] for the one A joins the same way.
	Through   []string   `json:"through"`
	Container *Container `json:"container"`
}

// ContainerUser is the User field split and parsed as the runtime does.
type ContainerUser struct {
	Raw   string `json:"raw"`
	Name  string `json:"name"`
	UID   *int   `json:"uid"` // nil when the user part is a name
	Group string `json:"group"`
	// Source says where the user comes from: "request", or "image" when
	// the request left it empty and the image's configured USER applies.
	Source string `json:"source"`
	// Resolved is true when a name was resolved to UID in the image's
	// /etc/passwd.
	Resolved bool `json:"resolved"`
}

// Ulimit is one --ulimit.
type Ulimit struct {
	Name string `json:"name"`
	Soft int64  `json:"soft"`
	Hard int64  `json:"hard"`
}

// Resources are the limits that matter to policy.
type Resources struct {
	Memory         int64  `json:"memory"`
	MemorySwap     int64  `json:"memory_swap"`
	NanoCPUs       int64  `json:"nano_cpus"`
	CPUQuota       int64  `json:"cpu_quota"`
	CPUPeriod      int64  `json:"cpu_period"`
	PidsLimit      *int64 `json:"pids_limit"`
	OomKillDisable *bool  `json:"oom_kill_disable"`
	CgroupParent   string `json:"cgroup_parent"`
}

// Namespaces are the namespace modes as sent ("host", "container:web", ...).
type Namespaces struct {
	Network  string `json:"network"`
	PID      string `json:"pid"`
	IPC      string `json:"ipc"`
	UTS      string `json:"uts"`
	Userns   string `json:"userns"`
	Cgroupns string `json:"cgroupns"`
}

// Port is one published port.
type Port struct {
	ContainerPort string `json:"container_port"`
	HostIP        string `json:"host_ip"` // "" = all interfaces
	HostPort      string `json:"host_port"`
	Loopback      bool   `json:"loopback"`
}

// Device is one --device mapping.
type Device struct {
	PathOnHost        string `json:"path_on_host"`
	PathInContainer   string `json:"path_in_container"`
	CgroupPermissions string `json:"cgroup_permissions"`
}

// DeviceRequest is one --gpus style request.
type DeviceRequest struct {
	Driver       string     `json:"driver"`
	Count        int        `json:"count"`
	DeviceIDs    []string   `json:"device_ids"`
	Capabilities [][]string `json:"capabilities"`
}

// containerView builds the view of a container's configuration. With
// lookups, the image user, named volumes and joined containers (and the
// ones they join, lookupPeers) are looked up on the daemon; a peer's view
// is built without them (lookupPeers adds its volumes and its own peers).
func (v *views) containerView(cfg *container.Config, hc *container.HostConfig, name string, lookups bool) (*Container, error) {
	c := &Container{
		Name:              name,
		Image:             cfg.Image,
		User:              parseUser(cfg.User),
		ReadOnly:          hc.ReadonlyRootfs,
		Privileged:        hc.Privileged,
		CapAdd:            NormalizeCaps(hc.CapAdd),
		CapDrop:           NormalizeCaps(hc.CapDrop),
		Security:          ParseSecurityOpts(hc.SecurityOpt),
		MaskedPathsSet:    hc.MaskedPaths != nil,
		ReadonlyPathsSet:  hc.ReadonlyPaths != nil,
		VolumesFrom:       nonNil(hc.VolumesFrom),
		PublishAll:        hc.PublishAllPorts,
		DeviceCgroupRules: nonNil(hc.DeviceCgroupRules),
		Sysctls:           hc.Sysctls,
		EnvNames:          []string{},
		Resources: Resources{
			Memory:         hc.Memory,
			MemorySwap:     hc.MemorySwap,
			NanoCPUs:       hc.NanoCPUs,
			CPUQuota:       hc.CPUQuota,
			CPUPeriod:      hc.CPUPeriod,
			PidsLimit:      hc.PidsLimit,
			OomKillDisable: hc.OomKillDisable,
			CgroupParent:   hc.CgroupParent,
		},
		Namespaces: Namespaces{
			Network:  string(hc.NetworkMode),
			PID:      string(hc.PidMode),
			IPC:      string(hc.IpcMode),
			UTS:      string(hc.UTSMode),
			Userns:   string(hc.UsernsMode),
			Cgroupns: string(hc.CgroupnsMode),
		},
	}
	if c.Sysctls == nil {
		c.Sysctls = map[string]string{}
	}
	c.Compose = ComposeOf(cfg.Labels)
	for _, kv := range cfg.Env {
		c.EnvNames = append(c.EnvNames, EnvName(kv))
	}
	c.Annotations = map[string]string{}
	for k, val := range hc.Annotations {
		c.Annotations[k] = val
	}
	c.Ulimits = []Ulimit{}
	for _, u := range hc.Ulimits {
		if u != nil {
			c.Ulimits = append(c.Ulimits, Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
		}
	}
	c.Devices = []Device{}
	for _, d := range hc.Devices {
		c.Devices = append(c.Devices, Device{d.PathOnHost, d.PathInContainer, d.CgroupPermissions})
	}
	c.DeviceRequests = []DeviceRequest{}
	for _, d := range hc.DeviceRequests {
		c.DeviceRequests = append(c.DeviceRequests, DeviceRequest{d.Driver, d.Count, nonNil(d.DeviceIDs), d.Capabilities})
	}
	c.Ports = ports(hc)
	c.Peers = []Peer{}
	mounts, err := v.mounts(cfg, hc, lookups)
	if err != nil {
		return nil, err
	}
	c.Mounts = mounts
	if lookups {
		if err := v.lookupUser(c); err != nil {
			return nil, err
		}
		if err := v.lookupPeers(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseUser splits "user[:group]" and parses the user part with strconv.Atoi,
// which is how the runtime decides that "00" or "+0" is uid 0 (B15).
func parseUser(raw string) ContainerUser {
	u := ContainerUser{Raw: raw, Source: "request"}
	u.Name, u.Group, _ = strings.Cut(raw, ":")
	if n, err := strconv.Atoi(u.Name); err == nil {
		u.UID = &n
	}
	return u
}

// NormalizeCaps upper-cases capability names and strips the CAP_ prefix, the
// way the daemon normalizes them, and returns them sorted and de-duplicated.
func NormalizeCaps(caps []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		c = strings.TrimPrefix(c, "CAP_")
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func ports(hc *container.HostConfig) []Port {
	out := []Port{}
	for p, bindings := range hc.PortBindings {
		if len(bindings) == 0 {
			// The daemon backfills an empty or null list with one binding
			// on all interfaces and a port of its choosing
			// (handlePortBindingsBC; before v29 go-connections/nat at
			// start): {"80/tcp": []} publishes 0.0.0.0 (issue 11 item 7).
			bindings = []network.PortBinding{{}}
		}
		for _, pb := range bindings {
			port := Port{ContainerPort: p.String(), HostPort: pb.HostPort}
			if pb.HostIP.IsValid() {
				port.HostIP = pb.HostIP.String()
				port.Loopback = pb.HostIP.Unmap().IsLoopback()
			}
			out = append(out, port)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ContainerPort != out[j].ContainerPort {
			return out[i].ContainerPort < out[j].ContainerPort
		}
		if out[i].HostIP != out[j].HostIP {
			return out[i].HostIP < out[j].HostIP
		}
		return out[i].HostPort < out[j].HostPort
	})
	return out
}

// volumeHostPaths returns the host paths a local-driver volume reaches
// when the daemon mounts it (daemon/volume/local: mount(2) of device on
// the volume's directory with type and o), in the order given:
//   - o=bind or o=rbind: device is a host path, whatever the type (the
//     kernel ignores the type of a bind mount);
//   - overlay: every lowerdir (":"-separated), lowerdir+, datadir+,
//     upperdir and workdir in o;
//   - tmpfs and ramfs, and the network filesystems (nfs, nfs4, cifs, smb3),
//     reach no host path: their device names a server or nothing;
//   - any other type (ext4 with device=/dev/sda1, an unknown type): device
//     is taken as a host path, so it must be allowed (fail closed).
//
// A relative path is returned as it is: the kernel resolves it against
// dockerd's working directory, which dockward cannot know, so the caller
// leaves it unresolved and the policy denies it.
func volumeHostPaths(driver string, opts map[string]string) []string {
	if driver != "" && driver != "local" {
		return nil
	}
	var device, typ, o string
	for k, v := range opts {
		switch strings.ToLower(k) {
		case "device":
			device = v
		case "type":
			typ = v
		case "o":
			o = v
		}
	}
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		if strings.HasPrefix(p, "/") {
			p = path.Clean(p)
		}
		out = append(out, p)
	}
	bind := false
	for _, opt := range strings.Split(o, ",") {
		if opt == "bind" || opt == "rbind" {
			bind = true
		}
	}
	switch {
	case bind:
		add(device)
	case strings.EqualFold(typ, "overlay"):
		for _, opt := range strings.Split(o, ",") {
			k, val, _ := strings.Cut(opt, "=")
			switch k {
			case "lowerdir", "lowerdir+", "datadir+":
				for _, dir := range strings.Split(val, ":") {
					add(dir)
				}
			case "upperdir", "workdir":
				add(val)
			}
		}
	case typ == "" && device == "":
		// A plain volume (or only size=): a directory the daemon owns.
	case noHostPathTypes[strings.ToLower(typ)]:
	default:
		add(device)
	}
	return out
}

// noHostPathTypes are the filesystem types whose device is not a host path.
var noHostPathTypes = map[string]bool{
	"tmpfs": true, "ramfs": true,
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true,
}

// HostPath is one host path a mount or volume reaches: as given (cleaned
// when absolute) and resolved on the host ("" when it cannot be: a
// relative path).
type HostPath struct {
	HostPath string `json:"host_path"`
	Resolved string `json:"resolved"`
}

// Mount is one filesystem the container gets, from any of the four places a
// create body can ask for one.
type Mount struct {
	Origin      string `json:"origin"` // Binds, Mounts, Tmpfs or Volumes
	Type        string `json:"type"`   // bind, volume, tmpfs, image, npipe, cluster
	Source      string `json:"source"`
	Target      string `json:"target"`
	ReadOnly    bool   `json:"read_only"`
	Propagation string `json:"propagation"`
	HostPath    string `json:"host_path"` // the first host path reached, cleaned; "" if none
	Resolved    string `json:"resolved"`  // HostPath with symlinks resolved
	// HostPaths are all the host paths the mount reaches (an overlay
	// volume reaches several), each resolved; HostPath is the first.
	HostPaths     []HostPath        `json:"host_paths"`
	VolumeDriver  string            `json:"volume_driver"`
	VolumeOptions map[string]string `json:"volume_options"`
}

func (v *views) mounts(cfg *container.Config, hc *container.HostConfig, lookups bool) ([]Mount, error) {
	out := []Mount{}
	for _, spec := range hc.Binds {
		m, err := parseBind(spec, hc.VolumeDriver)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, mm := range hc.Mounts {
		out = append(out, fromAPIMount(mm))
	}
	for _, target := range sortedKeys(hc.Tmpfs) {
		out = append(out, Mount{Origin: "Tmpfs", Type: "tmpfs", Target: target, VolumeOptions: map[string]string{}})
	}
	for _, target := range sortedKeys(cfg.Volumes) {
		out = append(out, Mount{Origin: "Volumes", Type: "volume", Target: target, VolumeOptions: map[string]string{}})
	}
	for i := range out {
		if err := v.resolveHostPaths(&out[i]); err != nil {
			return nil, err
		}
	}
	if lookups {
		if err := v.lookupVolumes(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveHostPaths fills in HostPaths (from HostPath when a bind set only
// that) and resolves each, and sets HostPath and Resolved to the first.
func (v *views) resolveHostPaths(m *Mount) error {
	if len(m.HostPaths) == 0 && m.HostPath != "" {
		m.HostPaths = []HostPath{{HostPath: m.HostPath}}
	}
	if m.HostPaths == nil {
		m.HostPaths = []HostPath{}
	}
	for i := range m.HostPaths {
		hp := &m.HostPaths[i]
		resolved, err := v.resolveHostPath(hp.HostPath)
		if err != nil {
			return denyf("cannot resolve host path %q of a %s mount: %v", hp.HostPath, m.Type, err)
		}
		hp.Resolved = resolved
	}
	m.HostPath, m.Resolved = "", ""
	if len(m.HostPaths) > 0 {
		m.HostPath, m.Resolved = m.HostPaths[0].HostPath, m.HostPaths[0].Resolved
	}
	return nil
}

// resolveHostPath resolves an absolute host path; a relative one stays
// unresolved ("" is what the policy denies as "cannot be resolved").
func (v *views) resolveHostPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", nil
	}
	return v.b.resolver().Resolve(p)
}

// hostPathsOf is the HostPaths of a volume's host paths, not yet resolved.
func hostPathsOf(paths []string) []HostPath {
	out := []HostPath{}
	for _, p := range paths {
		out = append(out, HostPath{HostPath: p})
	}
	return out
}

func fromAPIMount(mm mount.Mount) Mount {
	m := Mount{
		Origin:        "Mounts",
		Type:          string(mm.Type),
		Source:        mm.Source,
		Target:        mm.Target,
		ReadOnly:      mm.ReadOnly,
		VolumeOptions: map[string]string{},
	}
	switch mm.Type {
	case mount.TypeBind:
		// The daemon cleans a bind source lexically, then the kernel
		// resolves symlinks in what remains.
		if mm.Source != "" {
			m.HostPath = path.Clean(mm.Source)
		}
		if mm.BindOptions != nil {
			m.Propagation = string(mm.BindOptions.Propagation)
		}
	case mount.TypeVolume:
		if vo := mm.VolumeOptions; vo != nil && vo.DriverConfig != nil {
			m.VolumeDriver = vo.DriverConfig.Name
			for k, v := range vo.DriverConfig.Options {
				m.VolumeOptions[k] = v
			}
			m.HostPaths = hostPathsOf(volumeHostPaths(m.VolumeDriver, vo.DriverConfig.Options))
		}
	}
	return m
}

// parseBind parses a HostConfig.Binds entry as the daemon's Linux parser does:
// "src:dst[:mode]"; an absolute src is a host path, anything else a volume.
func parseBind(spec, volumeDriver string) (Mount, error) {
	parts := strings.Split(spec, ":")
	m := Mount{Origin: "Binds", VolumeOptions: map[string]string{}}
	var mode string
	switch len(parts) {
	case 2:
		m.Source, m.Target = parts[0], parts[1]
	case 3:
		m.Source, m.Target, mode = parts[0], parts[1], parts[2]
	default:
		return Mount{}, denyf("cannot parse bind %q: want SOURCE:TARGET[:OPTIONS]", spec)
	}
	if m.Source == "" || m.Target == "" {
		return Mount{}, denyf("cannot parse bind %q: empty source or target", spec)
	}
	for _, opt := range strings.Split(mode, ",") {
		switch opt {
		case "ro":
			m.ReadOnly = true
		case "shared", "rshared", "slave", "rslave", "private", "rprivate":
			m.Propagation = opt
		}
	}
	if strings.HasPrefix(m.Source, "/") {
		m.Type = "bind"
		m.HostPath = path.Clean(m.Source)
	} else {
		m.Type = "volume"
		m.VolumeDriver = volumeDriver
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
