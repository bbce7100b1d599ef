# METADATA
# description: |
#   Every policy parameter and its default, in one place. The only reader of
#   data.authz_config.params: a data.json that omits a knob gets the default.
package authz.lib.params

default _given := {}

_given := data.authz_config.params

# The type of every parameter read below. dockward checks data.json against
# it when the policy loads (plugin/policy), so "max_memory": "4g" is a load
# error (a reload keeps the last good policy) rather than a limit that never
# fires, and a name not listed here is refused as a typo. A parameter read
# with object.get(_given, ...) without a type here fails the load too.
# Types: "positive integer", "positive number", "boolean", "list of strings",
# "object of positive integers".
types := {
	"max_memory": "positive integer",
	"max_cpus": "positive number",
	"max_pids": "positive integer",
	"allowed_capabilities": "list of strings",
	"allowed_host_paths": "list of strings",
	"allowed_publish_ips": "list of strings",
	"allowed_user_names": "list of strings",
	"safe_sysctls": "list of strings",
	"docker_socket_paths": "list of strings",
	"allowed_images": "list of strings",
	"allowed_network_drivers": "list of strings",
	"allowed_annotations": "list of strings",
	"allowed_ulimits": "object of positive integers",
	"require_digest": "boolean",
}

max_memory := object.get(_given, "max_memory", 4294967296)

max_cpus := object.get(_given, "max_cpus", 4)

max_pids := object.get(_given, "max_pids", 4096)

# Capabilities --cap-add may name, upper-cased as the plugin normalizes cap_add.
allowed_capabilities := {upper(c) | some c in object.get(_given, "allowed_capabilities", _default_capabilities)}

_default_capabilities := ["NET_BIND_SERVICE", "NET_RAW"]

# Host paths binds may reach; none by default.
allowed_host_paths := object.get(_given, "allowed_host_paths", [])

# Non-loopback host IPs ports may be published on; none by default.
allowed_publish_ips := {ip | some ip in object.get(_given, "allowed_publish_ips", [])}

# User names an operator vouches are non-root in the images they run.
allowed_user_names := {n | some n in object.get(_given, "allowed_user_names", [])}

# The Pod Security Standards "safe" sysctls.
safe_sysctls := {s | some s in object.get(_given, "safe_sysctls", _default_safe_sysctls)}

_default_safe_sysctls := [
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
]

# Annotation keys containers may carry (HostConfig.Annotations, read by
# the runtime); an entry ending in "*" is a prefix. None by default.
allowed_annotations := object.get(_given, "allowed_annotations", [])

# Ulimits containers may set, name -> maximum soft and hard value (-1:
# unlimited allowed).
allowed_ulimits := object.get(_given, "allowed_ulimits", {"nofile": 1048576})

docker_socket_paths := object.get(_given, "docker_socket_paths", ["/var/run/docker.sock", "/run/docker.sock"])

# Images containers may run and pulls may fetch: globs over repository names,
# written normalized (docker.io/library/*) or familiar (alpine,
# registry.example.com/base/*); "/" delimits, so "*" stays in one path
# segment and "**" crosses them. "*" alone allows every image: the default,
# image trust off.
allowed_images := object.get(_given, "allowed_images", ["*"])

# Containers must name their image by digest (image@sha256:…) or image id.
require_digest := object.get(_given, "require_digest", false)

# Network drivers whose containers stay behind the host (reachable from the
# LAN only through ports published with -p): bridge (NAT, with its default
# gateway mode) and overlay (swarm VXLAN between nodes; egress NATed through
# docker_gwbridge, ingress only through published ports). macvlan, ipvlan
# and third-party drivers put containers on the LAN or do what they like.
allowed_network_drivers := object.get(_given, "allowed_network_drivers", ["bridge", "overlay"])
