# METADATA
# title: docker update may not lift limits
# description: |
#   After a compliant create, docker update could remove the memory, swap,
#   pids or CPU limits (B9). Zero means "unchanged" except for the pids
#   limit, where 0 or -1 means unlimited and null means unchanged. The
#   limits after the update (input.update.effective) are judged too.
# custom:
#   levels: [restricted]
#   endpoints: [container.update]
#   psa: "none"
#   cis: "5.10, 5.11, 5.28"
#   severity: high
#   fix: keep limits within the maximums (--memory up to {max_memory}, --pids-limit 1 to {max_pids}, --cpus up to {max_cpus}; no -1)
package authz.rules.update.update_limits

import data.authz.lib.params
import data.authz.lib.result

deny contains violation if {
	input.route.endpoint == "container.update"
	some msg in _problems
	violation := result.violation(rego.metadata.chain(), msg)
}

_r := input.update.resources

_problems contains sprintf("memory limit %d is not a limit", [_r.memory]) if _r.memory < 0

_problems contains sprintf("memory limit %d bytes is above the maximum %d", [_r.memory, params.max_memory]) if {
	_r.memory > params.max_memory
}

_problems contains "swap is made unlimited (--memory-swap -1)" if _r.memory_swap == -1

_problems contains sprintf("pids limit %d means unlimited", [_r.pids_limit]) if {
	_r.pids_limit != null
	_r.pids_limit <= 0
}

_problems contains sprintf("pids limit %d is above the maximum %d", [_r.pids_limit, params.max_pids]) if {
	_r.pids_limit != null
	_r.pids_limit > params.max_pids
}

_problems contains sprintf("CPU limit %v is above the maximum %v", [_r.nano_cpus / 1000000000, params.max_cpus]) if {
	_r.nano_cpus / 1000000000 > params.max_cpus
}

_problems contains "CPU quota is made unlimited (--cpu-quota -1)" if _r.cpu_quota < 0

_problems contains "the OOM killer is disabled" if _r.oom_kill_disable == true

# The limits the container has after the update: its own, with the
# update merged over them as the daemon merges it (issue 11 item 13):
# --cpu-period 1000 over a --cpu-quota 50000 is 50 CPUs.
_e := input.update.effective

_problems contains sprintf("after the update the memory limit is %d bytes, above the maximum %d", [_e.memory, params.max_memory]) if {
	_r.memory <= params.max_memory
	_e.memory > params.max_memory
}

_problems contains sprintf("after the update the pids limit is %d, above the maximum %d", [_e.pids_limit, params.max_pids]) if {
	_r.pids_limit == null
	_e.pids_limit != null
	_e.pids_limit > params.max_pids
}

_problems contains sprintf("after the update the CPU limit is %v, above the maximum %v", [cpus, params.max_cpus]) if {
	cpus := _cpus(_e)
	cpus > params.max_cpus
	not _r.nano_cpus / 1000000000 > params.max_cpus
}

_problems contains "after the update the container has no CPU limit" if {
	_touches_cpu
	not _cpus(_e)
}

_problems contains "the container's limits after the update are not known" if not input.update.effective

_touches_cpu if _r.nano_cpus != 0

_touches_cpu if _r.cpu_quota != 0

_touches_cpu if _r.cpu_period != 0

_cpus(r) := r.nano_cpus / 1000000000 if r.nano_cpus > 0

# The CFS period defaults to 100ms when none is set; a quota of -1 (or
# none) is no limit.
_cpus(r) := r.cpu_quota / _period(r) if {
	r.nano_cpus <= 0
	r.cpu_quota > 0
}

_period(r) := r.cpu_period if r.cpu_period > 0

_period(r) := 100000 if r.cpu_period <= 0
