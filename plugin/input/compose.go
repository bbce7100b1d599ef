package input

// The labels Docker Compose puts on every container it creates
// (github.com/docker/compose/v2/pkg/api: ProjectLabel, ServiceLabel).
const (
	ComposeProjectLabel = "com.docker.compose.project"
	ComposeServiceLabel = "com.docker.compose.service"
)

// Compose names the Compose project and service a container belongs to, as
// its labels say. It changes no verdict: any client can set the labels, and
// they only decide how a fix is spelt (custom.fix_compose, the Compose key
// instead of the docker run flag) and what the message and the audit record
// name. Both labels must be there, as Compose always sets them.
type Compose struct {
	Project string `json:"project"`
	Service string `json:"service"`
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
