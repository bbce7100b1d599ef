package authz.lib.params_test

import data.authz.lib.params

# With no data at all every knob has its documented default (the values
# data.json writes out).
test_defaults_without_data if {
	params.max_memory == 4294967296 with data.authz_config as {}
	params.max_cpus == 4 with data.authz_config as {}
	params.max_pids == 4096 with data.authz_config as {}
	params.allowed_capabilities == {"NET_BIND_SERVICE", "NET_RAW"} with data.authz_config as {}
	params.allowed_host_paths == [] with data.authz_config as {}
	params.allowed_publish_ips == set() with data.authz_config as {}
	params.allowed_user_names == set() with data.authz_config as {}
	count(params.safe_sysctls) == 10 with data.authz_config as {}
	"net.ipv4.tcp_syncookies" in params.safe_sysctls with data.authz_config as {}
	params.docker_socket_paths == ["/var/run/docker.sock", "/run/docker.sock"] with data.authz_config as {}
}

test_defaults_with_empty_params if {
	params.max_pids == 4096 with data.authz_config as {"params": {}}
	params.allowed_capabilities == {"NET_BIND_SERVICE", "NET_RAW"} with data.authz_config as {"params": {}}
}

test_override_one_knob_keeps_the_others if {
	params.max_memory == 1024 with data.authz_config.params as {"max_memory": 1024}
	params.max_cpus == 4 with data.authz_config.params as {"max_memory": 1024}
}

test_capabilities_upper_cased if {
	params.allowed_capabilities == {"CHOWN"} with data.authz_config.params as {"allowed_capabilities": ["chown"]}
}

test_lists_read_from_data if {
	p := {
		"allowed_publish_ips": ["10.0.0.5"], "allowed_user_names": ["app"],
		"safe_sysctls": ["kernel.shm_rmid_forced"], "allowed_host_paths": ["/srv"],
		"docker_socket_paths": ["/custom/docker.sock"],
	}
	params.allowed_publish_ips == {"10.0.0.5"} with data.authz_config.params as p
	params.allowed_user_names == {"app"} with data.authz_config.params as p
	params.safe_sysctls == {"kernel.shm_rmid_forced"} with data.authz_config.params as p
	params.allowed_host_paths == ["/srv"] with data.authz_config.params as p
	params.docker_socket_paths == ["/custom/docker.sock"] with data.authz_config.params as p
}

test_image_trust_off_by_default if {
	params.allowed_images == ["*"] with data.authz_config as {}
	params.require_digest == false with data.authz_config as {}
}

test_image_trust_params_read_from_data if {
	p := {"allowed_images": ["alpine"], "require_digest": true}
	params.allowed_images == ["alpine"] with data.authz_config.params as p
	params.require_digest with data.authz_config.params as p
}
