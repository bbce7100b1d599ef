package input

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
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
	// Peers are the containers this one shares namespaces or volumes with
	// (container:<name> modes, --volumes-from), as the daemon has them.
	Peers []Peer `json:"peers"`
	// Networks are the user-defined networks the container joins, looked
	// up on the daemon (network.go); null for a joined peer.
	Networks []Network `json:"networks"`
}

// Peer is another container this one joins.
type Peer struct {
	Via       string     `json:"via"` // network, pid, ipc, uts, userns, cgroupns or volumes_from
	Target    string     `json:"target"`
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

// containerView builds the view of a container's configuration. Lookups
// (image user, joined containers, named volumes) are made only when the
// configuration needs them, and only at the first level (peers, below, are
// not themselves looked into further).
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
	for _, kv := range cfg.Env {
		c.EnvNames = append(c.EnvNames, EnvName(kv))
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

// volumeHostPath returns the host directory a local-driver volume binds, if
// any: `--opt type=none --opt o=bind --opt device=/path` (B7).
func volumeHostPath(driver string, opts map[string]string) string {
	if driver != "" && driver != "local" {
		return ""
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
	if device == "" {
		return ""
	}
	bind := typ == "none"
	for _, opt := range strings.Split(o, ",") {
		if opt == "bind" || opt == "rbind" {
			bind = true
		}
	}
	if !bind || !strings.HasPrefix(device, "/") {
		return ""
	}
	return path.Clean(device)
}

// Mount is one filesystem the container gets, from any of the four places a
// create body can ask for one.
type Mount struct {
	Origin        string            `json:"origin"` // Binds, Mounts, Tmpfs or Volumes
	Type          string            `json:"type"`   // bind, volume, tmpfs, image, npipe, cluster
	Source        string            `json:"source"`
	Target        string            `json:"target"`
	ReadOnly      bool              `json:"read_only"`
	Propagation   string            `json:"propagation"`
	HostPath      string            `json:"host_path"` // host path reached, cleaned; "" if none
	Resolved      string            `json:"resolved"`  // HostPath with symlinks resolved
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
	if lookups {
		if err := v.lookupVolumes(out); err != nil {
			return nil, err
		}
	}
	for i := range out {
		if out[i].HostPath == "" {
			continue
		}
		resolved, err := v.b.resolver().Resolve(out[i].HostPath)
		if err != nil {
			return nil, denyf("cannot resolve host path %q of a %s mount: %v", out[i].HostPath, out[i].Type, err)
		}
		out[i].Resolved = resolved
	}
	return out, nil
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
			m.HostPath = volumeHostPath(m.VolumeDriver, vo.DriverConfig.Options)
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
