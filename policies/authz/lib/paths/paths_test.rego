package authz.lib.paths_test

import data.authz.lib.paths

test_under if {
	paths.under("/srv", "/srv")
	paths.under("/srv/a", "/srv/")
	not paths.under("/srvx", "/srv")
	paths.under("/anything", "/")
}

test_problem if {
	paths.problem("/x", "") == "host path /x cannot be resolved"
	paths.problem("/var/run", "/run") == "host path /var/run (resolves to /run) exposes the Docker socket"
	not paths.problem("/srv/a", "/srv/a") with data.authz_config.params as {"allowed_host_paths": ["/srv"]}
}
