# METADATA
# title: Volumes may not bind host paths
# description: |
#   docker volume create --opt type=none --opt o=bind --opt device=/ makes a
#   volume that is a host directory; any container mounting it by name then
#   gets the host's files (B7). So does a block device (type=ext4
#   device=/dev/sda1: the host's disk), an overlay's lowerdir, upperdir and
#   workdir, and a relative device, which the kernel resolves against
#   dockerd's working directory (issue 11 item 10). Only tmpfs, ramfs and
#   network filesystems reach no host path.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [volume.create]
#   psa: "HostPath Volumes"
#   cis: "5.5"
#   severity: critical
#   fix_compose: 'remove driver_opts device and o: bind from the volume in volumes: (a plain named volume, or driver_opts type: tmpfs), or ask an admin to add the path to params.allowed_host_paths'
#   fix: create the volume without --opt device=/--opt o=bind (a plain volume, or type=tmpfs) (or ask an admin to add the path to params.allowed_host_paths)
package authz.rules.volume.volume_host_path

import data.authz.lib.paths
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "volume.create"
	some hp in paths.reached(input.volume)
	msg := paths.problem(hp.host_path, hp.resolved)
	violation := result.violation(rego.metadata.chain(), sprintf("volume %q binds %s", [input.volume.name, msg]))
}
