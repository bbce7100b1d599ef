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
