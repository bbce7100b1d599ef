package input

// The labels Docker Compose puts on every container it creates
// (github.com/docker/compose/v2/pkg/api: ProjectLabel, ServiceLabel).
const (
	ComposeProjectLabel = "com.docker.compose.project"
	ComposeServiceLabel = "com.docker.compose.service"
	ComposeVolumeLabel  = "com.docker.compose.volume"  // the volume's key in the file
	ComposeNetworkLabel = "com.docker.compose.network" // the network's key in the file
)

// Compose names the Compose project and service a container belongs to, as
// its labels say. It changes no verdict: any client can set the labels, and
// they only decide how a fix is spelt (custom.fix_compose, the Compose key
// instead of the docker run flag) and what the message and the audit record
// name. Both labels must be there, as Compose always sets them.
type Compose struct {
	Project string `json:"project"`
	Service string `json:"service,omitempty"` // a container's
	Volume  string `json:"volume,omitempty"`  // a volume create's key in the file
	Network string `json:"network,omitempty"` // a network create's
}

// ComposeOf reads the Compose labels; nil when the container is not one of
// Compose's (either label missing or empty).
func ComposeOf(labels map[string]string) *Compose {
	p, s := labels[ComposeProjectLabel], labels[ComposeServiceLabel]
	if p == "" || s == "" {
		return nil
	}
	return &Compose{Project: p, Service: s}
}

// ComposeObjectOf reads the labels Compose puts on the volumes and networks
// it creates (key: ComposeVolumeLabel or ComposeNetworkLabel); nil when
// either the project or the key is missing.
func ComposeObjectOf(labels map[string]string, key string) *Compose {
	p, k := labels[ComposeProjectLabel], labels[key]
	if p == "" || k == "" {
		return nil
	}
	c := &Compose{Project: p}
	if key == ComposeVolumeLabel {
		c.Volume = k
	} else {
		c.Network = k
	}
	return c
}

// What names the Compose object: "service web", "volume data", "network front".
func (c *Compose) What() string {
	switch {
	case c.Service != "":
		return "service " + c.Service
	case c.Volume != "":
		return "volume " + c.Volume
	default:
		return "network " + c.Network
	}
}

// ComposeObject is the Compose object the request creates or starts: the
// container's, the volume's or the network's; nil for any other request.
func (in *Input) ComposeObject() *Compose {
	switch {
	case in.Container != nil && in.Container.Compose != nil:
		return in.Container.Compose
	case in.Volume != nil && in.Volume.Compose != nil:
		return in.Volume.Compose
	case in.Network != nil && in.Network.Compose != nil:
		return in.Network.Compose
	}
	return nil
}
