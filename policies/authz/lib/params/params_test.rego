package authz.lib.params_test

import data.authz.lib.params

test_defaults_without_data if {
	params.max_memory == 4294967296 with data.authz_config as {}
	params.max_pids == 4096 with data.authz_config as {}
	params.allowed_capabilities == {"NET_BIND_SERVICE", "NET_RAW"} with data.authz_config as {}
	"net.ipv4.tcp_syncookies" in params.safe_sysctls with data.authz_config as {}
}

test_override_one_knob_keeps_the_others if {
	params.max_memory == 1024 with data.authz_config.params as {"max_memory": 1024}
	params.max_cpus == 4 with data.authz_config.params as {"max_memory": 1024}
}

test_capabilities_upper_cased if {
	params.allowed_capabilities == {"CHOWN"} with data.authz_config.params as {"allowed_capabilities": ["chown"]}
}

test_image_trust_off_by_default if {
	params.allowed_images == ["*"] with data.authz_config as {}
	params.require_digest == false with data.authz_config as {}
}

test_image_trust_params_read_from_data if {
	params.allowed_images == ["alpine"] with data.authz_config.params as {"allowed_images": ["alpine"], "require_digest": true}
	params.require_digest with data.authz_config.params as {"allowed_images": ["alpine"], "require_digest": true}
}
