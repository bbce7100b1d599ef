# METADATA
# title: Host devices may not be added
# description: A host device node gives direct access to hardware or kernel interfaces.
# custom:
#   levels: [baseline, restricted]
#   endpoints: [container.create, service.create, service.update, container.start, container.restart]
#   psa: "none"
#   cis: "5.17"
#   severity: high
#   fix_compose: 'remove devices:, device_cgroup_rules:, gpus: and deploy.resources.reservations.devices'
#   fix: remove --device / --device-cgroup-rule / --gpus
package authz.rules.container.no_devices

import data.authz.lib.request
import data.authz.lib.result

deny contains violation if {
	request.is_container_create
	some d in input.container.devices
	violation := result.violation(rego.metadata.chain(), sprintf("device %s is added", [_device(d)]))
}

deny contains violation if {
	request.is_container_create
	some r in input.container.device_cgroup_rules
	violation := result.violation(rego.metadata.chain(), sprintf("device cgroup rule %q is added", [r]))
}

deny contains violation if {
	request.is_container_create
	count(input.container.device_requests) > 0
	violation := result.violation(rego.metadata.chain(), "devices are requested (--gpus)")
}

# _device names a device by its host path; a device without one still
# yields a violation (the message must never be what makes a rule miss).
_device(d) := d.path_on_host if d.path_on_host != ""

_device(d) := json.marshal(d) if object.get(d, "path_on_host", "") == ""
