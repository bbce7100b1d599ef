# A minimal policy for Go tests of the engine: independent of the shipped
# library, so engine tests do not break when a rule changes.
package authz

_all contains v if some v in data.authz.rules[_][_].deny

violations contains v if some v in _all

# METADATA
# entrypoint: true
decision := {"allow": count(violations) == 0, "violations": violations, "dryrun": set(), "exempted": set()}
