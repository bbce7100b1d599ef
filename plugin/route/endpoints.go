package route

import "strings"

// endpoint is one daemon route. A pattern is matched segment by segment:
// "{id}" matches one segment; "{name*}" matches one or more segments, because
// image and plugin references contain slashes ("registry:5000/team/app").
type endpoint struct {
	method, pattern, name string
}

// endpoints lists the Docker Engine API routes (moby api/server/router/*),
// most specific first: the first match wins, so fixed paths such as
// /images/json must precede /images/{name*}/json.
var endpoints = []endpoint{
	// system
	{"GET", "/_ping", "system.ping"},
	{"HEAD", "/_ping", "system.ping"},
	{"GET", "/info", "system.info"},
	{"GET", "/version", "system.version"},
	{"GET", "/system/df", "system.df"},
	{"GET", "/events", "system.events"},
	{"POST", "/auth", "system.auth"},
	{"POST", "/session", "session"},
	{"POST", "/grpc", "grpc"},
	// containers
	{"GET", "/containers/json", "container.list"},
	{"POST", "/containers/create", "container.create"},
	{"POST", "/containers/prune", "container.prune"},
	{"GET", "/containers/{id}/json", "container.inspect"},
	{"GET", "/containers/{id}/top", "container.top"},
	{"GET", "/containers/{id}/logs", "container.logs"},
	{"GET", "/containers/{id}/changes", "container.changes"},
	{"GET", "/containers/{id}/export", "container.export"},
	{"GET", "/containers/{id}/stats", "container.stats"},
	{"GET", "/containers/{id}/attach/ws", "container.attach_ws"},
	{"GET", "/containers/{id}/archive", "container.archive"},
	{"HEAD", "/containers/{id}/archive", "container.archive_stat"},
	{"PUT", "/containers/{id}/archive", "container.archive_put"},
	{"POST", "/containers/{id}/start", "container.start"},
	{"POST", "/containers/{id}/stop", "container.stop"},
	{"POST", "/containers/{id}/restart", "container.restart"},
	{"POST", "/containers/{id}/kill", "container.kill"},
	{"POST", "/containers/{id}/pause", "container.pause"},
	{"POST", "/containers/{id}/unpause", "container.unpause"},
	{"POST", "/containers/{id}/wait", "container.wait"},
	{"POST", "/containers/{id}/resize", "container.resize"},
	{"POST", "/containers/{id}/attach", "container.attach"},
	{"POST", "/containers/{id}/copy", "container.copy"},
	{"POST", "/containers/{id}/exec", "container.exec"},
	{"POST", "/containers/{id}/rename", "container.rename"},
	{"POST", "/containers/{id}/update", "container.update"},
	{"DELETE", "/containers/{id}", "container.delete"},
	{"POST", "/commit", "container.commit"},
	{"GET", "/containers/{id}/checkpoints", "checkpoint.list"},
	{"POST", "/containers/{id}/checkpoints", "checkpoint.create"},
	{"DELETE", "/containers/{id}/checkpoints/{name*}", "checkpoint.delete"},
	// exec
	{"GET", "/exec/{id}/json", "exec.inspect"},
	{"POST", "/exec/{id}/start", "exec.start"},
	{"POST", "/exec/{id}/resize", "exec.resize"},
	// images
	{"GET", "/images/json", "image.list"},
	{"GET", "/images/search", "image.search"},
	{"GET", "/images/get", "image.save"},
	{"POST", "/images/create", "image.create"},
	{"POST", "/images/load", "image.load"},
	{"POST", "/images/prune", "image.prune"},
	{"GET", "/images/{name*}/get", "image.save"},
	{"GET", "/images/{name*}/history", "image.history"},
	{"GET", "/images/{name*}/json", "image.inspect"},
	{"POST", "/images/{name*}/push", "image.push"},
	{"POST", "/images/{name*}/tag", "image.tag"},
	{"DELETE", "/images/{name*}", "image.delete"},
	{"GET", "/distribution/{name*}/json", "distribution.inspect"},
	// build
	{"POST", "/build", "build"},
	{"POST", "/build/prune", "build.prune"},
	{"POST", "/build/cancel", "build.cancel"},
	// volumes
	{"GET", "/volumes", "volume.list"},
	{"POST", "/volumes/create", "volume.create"},
	{"POST", "/volumes/prune", "volume.prune"},
	{"GET", "/volumes/{id}", "volume.inspect"},
	{"PUT", "/volumes/{id}", "volume.update"},
	{"DELETE", "/volumes/{id}", "volume.delete"},
	// networks
	{"GET", "/networks", "network.list"},
	{"POST", "/networks/create", "network.create"},
	{"POST", "/networks/prune", "network.prune"},
	{"GET", "/networks/{id}", "network.inspect"},
	{"POST", "/networks/{id}/connect", "network.connect"},
	{"POST", "/networks/{id}/disconnect", "network.disconnect"},
	{"DELETE", "/networks/{id}", "network.delete"},
	// plugins
	{"GET", "/plugins", "plugin.list"},
	{"GET", "/plugins/privileges", "plugin.privileges"},
	{"POST", "/plugins/pull", "plugin.pull"},
	{"POST", "/plugins/create", "plugin.create"},
	{"GET", "/plugins/{name*}/json", "plugin.inspect"},
	{"POST", "/plugins/{name*}/enable", "plugin.enable"},
	{"POST", "/plugins/{name*}/disable", "plugin.disable"},
	{"POST", "/plugins/{name*}/push", "plugin.push"},
	{"POST", "/plugins/{name*}/upgrade", "plugin.upgrade"},
	{"POST", "/plugins/{name*}/set", "plugin.set"},
	{"DELETE", "/plugins/{name*}", "plugin.delete"},
	// swarm
	{"GET", "/swarm", "swarm.inspect"},
	{"GET", "/swarm/unlockkey", "swarm.unlockkey"},
	{"POST", "/swarm/init", "swarm.init"},
	{"POST", "/swarm/join", "swarm.join"},
	{"POST", "/swarm/leave", "swarm.leave"},
	{"POST", "/swarm/update", "swarm.update"},
	{"POST", "/swarm/unlock", "swarm.unlock"},
	{"GET", "/services", "service.list"},
	{"POST", "/services/create", "service.create"},
	{"GET", "/services/{id}", "service.inspect"},
	{"POST", "/services/{id}/update", "service.update"},
	{"GET", "/services/{id}/logs", "service.logs"},
	{"DELETE", "/services/{id}", "service.delete"},
	{"GET", "/tasks", "task.list"},
	{"GET", "/tasks/{id}", "task.inspect"},
	{"GET", "/tasks/{id}/logs", "task.logs"},
	{"GET", "/nodes", "node.list"},
	{"GET", "/nodes/{id}", "node.inspect"},
	{"POST", "/nodes/{id}/update", "node.update"},
	{"DELETE", "/nodes/{id}", "node.delete"},
	{"GET", "/secrets", "secret.list"},
	{"POST", "/secrets/create", "secret.create"},
	{"GET", "/secrets/{id}", "secret.inspect"},
	{"POST", "/secrets/{id}/update", "secret.update"},
	{"DELETE", "/secrets/{id}", "secret.delete"},
	{"GET", "/configs", "config.list"},
	{"POST", "/configs/create", "config.create"},
	{"GET", "/configs/{id}", "config.inspect"},
	{"POST", "/configs/{id}/update", "config.update"},
	{"DELETE", "/configs/{id}", "config.delete"},
}

// match returns the endpoint name and path parameter for a cleaned path.
func match(method, p string) (name, id string) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, e := range endpoints {
		if e.method != method {
			continue
		}
		if id, ok := matchPattern(strings.Split(strings.TrimPrefix(e.pattern, "/"), "/"), segs); ok {
			return e.name, id
		}
	}
	return "", ""
}

func matchPattern(pat, segs []string) (string, bool) {
	var id string
	for i, ps := range pat {
		switch ps {
		case "{id}":
			if i >= len(segs) || segs[i] == "" {
				return "", false
			}
			id = segs[i]
		case "{name*}":
			// Greedy over the middle: the name takes every segment except
			// the fixed ones that follow it in the pattern.
			rest := len(pat) - i - 1
			if len(segs)-i-rest < 1 {
				return "", false
			}
			id = strings.Join(segs[i:len(segs)-rest], "/")
			if _, ok := matchPattern(pat[i+1:], segs[len(segs)-rest:]); !ok {
				return "", false
			}
			return id, true
		default:
			if i >= len(segs) || segs[i] != ps {
				return "", false
			}
		}
	}
	if len(pat) != len(segs) {
		return "", false
	}
	return id, true
}
