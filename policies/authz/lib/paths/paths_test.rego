package authz.lib.paths_test

import data.authz.lib.paths

test_under if {
	paths.under("/srv", "/srv")
	paths.under("/srv/a", "/srv/")
	not paths.under("/srvx", "/srv")
	paths.under("/anything", "/")
}

test_allowed_ignores_relative_and_empty_entries if {
	not paths.allowed("/etc") with data.authz_config.params as {"allowed_host_paths": ["", "etc"]}
	paths.allowed("/etc/x") with data.authz_config.params as {"allowed_host_paths": ["", "/etc"]}
}

test_exposes_socket if {
	every p in ["/", "/run", "/var", "/var/run", "/var/run/docker.sock", "/run/docker.sock"] {
		paths.exposes_socket(p)
	}
	not paths.exposes_socket("/run/user")
	not paths.exposes_socket("/var/run/docker.sock.d")
}

test_problem if {
	paths.problem("/x", "") == "host path /x cannot be resolved"
	paths.problem("/var/run", "/run") == "host path /var/run (resolves to /run) exposes the Docker socket"
	paths.problem("/etc", "/etc") == "host path /etc is not under an allowed host path []"
	p := {"allowed_host_paths": ["/srv", "/data"]}
	msg := paths.problem("/srvx", "/srvx") with data.authz_config.params as p
	msg == "host path /srvx is not under an allowed host path [/srv, /data]"
	not paths.problem("/srv/a", "/srv/a") with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}
