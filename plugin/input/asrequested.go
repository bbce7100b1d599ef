package input

import "github.com/moby/moby/api/types/container"

// AsRequested turns a HostConfig as `docker inspect` reports it back into
// what its creator asked for, so an existing container is judged on the
// same terms as a create request:
//   - MaskedPaths and ReadonlyPaths hold the daemon's default lists unless
//     the container was created with systempaths=unconfined, which shows
//     as empty lists (B13);
//   - CgroupnsMode holds the daemon's default ("host" on cgroup v1 hosts)
//     when none was asked for. A mode equal to the default cannot be told
//     from an explicit one: on cgroup v1, --cgroupns host looks like no flag.
func AsRequested(hc container.HostConfig, defaultCgroupns string) container.HostConfig {
	if len(hc.MaskedPaths) > 0 {
		hc.MaskedPaths = nil
	}
	if len(hc.ReadonlyPaths) > 0 {
		hc.ReadonlyPaths = nil
	}
	if defaultCgroupns != "" && string(hc.CgroupnsMode) == defaultCgroupns {
		hc.CgroupnsMode = ""
	}
	return hc
}
