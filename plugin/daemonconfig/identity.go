package daemonconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Identity is what dockerd needs for the identity broker: its own unix
// socket for root only, a TLS listener on loopback that requires a client
// certificate of dockward's CA (the CN is the user), and the PKI files.
type Identity struct {
	RawSocket string // /run/dockward/docker-root.sock
	Upstream  string // tcp://127.0.0.1:2376
	PKIDir    string // ca.pem, server-cert.pem, server-key.pem
}

// identityKeys are the daemon.json keys EnableIdentity owns, in the order
// they are checked.
var identityKeys = []string{"hosts", "tlsverify", "tlscacert", "tlscert", "tlskey", "group"}

// Settings are the daemon.json values, by key.
func (id Identity) Settings() map[string]any {
	return map[string]any{
		"hosts":     []string{"unix://" + id.RawSocket, id.Upstream},
		"tlsverify": true,
		"tlscacert": filepath.Join(id.PKIDir, "ca.pem"),
		"tlscert":   filepath.Join(id.PKIDir, "server-cert.pem"),
		"tlskey":    filepath.Join(id.PKIDir, "server-key.pem"),
		// dockerd makes its unix socket root:<group> 0660 (group docker by
		// default): root's group keeps the docker group off it.
		"group": "root",
	}
}

// EnableIdentity merges the identity settings into daemon.json. A key the
// operator already set to something else is an error, never overwritten:
// dockerd would silently stop listening where they expect it.
func EnableIdentity(path string, id Identity) (bool, error) {
	want := id.Settings()
	return editDoc(path, func(doc map[string]json.RawMessage) (bool, error) {
		changed := false
		for _, k := range identityKeys {
			b, _ := json.Marshal(want[k])
			if cur, ok := doc[k]; ok {
				if sameJSON(cur, b) {
					continue
				}
				return false, fmt.Errorf("%s already sets %q to %s; identity needs %s. Remove or change it by hand (dockerd listens where %q says), then run this again", path, k, cur, b, k)
			}
			doc[k] = b
			changed = true
		}
		return changed, nil
	})
}

// DisableIdentity takes the identity settings out of daemon.json when they
// are dockward's (tlscacert is pkiDir's ca.pem); settings of the
// operator's own are left alone. dockerd without "hosts" listens on its
// default /var/run/docker.sock again (after a restart).
func DisableIdentity(path, pkiDir string) (bool, error) {
	ours := Identity{PKIDir: pkiDir}.Settings()
	return editDoc(path, func(doc map[string]json.RawMessage) (bool, error) {
		ca, _ := json.Marshal(ours["tlscacert"])
		if cur, ok := doc["tlscacert"]; !ok || !sameJSON(cur, ca) {
			return false, nil
		}
		for _, k := range identityKeys {
			switch k {
			case "hosts":
				// Ours when it names a raw socket and a loopback TLS listener only.
				var hosts []string
				if json.Unmarshal(doc[k], &hosts) == nil && len(hosts) == 2 &&
					strings.HasPrefix(hosts[0], "unix://") && strings.HasPrefix(hosts[1], "tcp://127.") {
					delete(doc, k)
				}
			default:
				b, _ := json.Marshal(ours[k])
				if sameJSON(doc[k], b) {
					delete(doc, k)
				}
			}
		}
		return true, nil
	})
}

// HasIdentity reports whether daemon.json at path carries dockward's identity
// settings for pkiDir.
func HasIdentity(path, pkiDir string) (bool, error) {
	found := false
	_, err := editDoc(path, func(doc map[string]json.RawMessage) (bool, error) {
		ca, _ := json.Marshal(filepath.Join(pkiDir, "ca.pem"))
		found = sameJSON(doc["tlscacert"], ca)
		return false, nil
	})
	return found, err
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return slices.Equal(xa, ya)
}
