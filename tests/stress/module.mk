# tests/stress/: container output through the real tree under CPU hogs.
# `make test` (check) runs the short version (10 iterations per driver plus
# 8 at once, slow readers, 4 daemon restarts mid-output); `make stress` runs 200.
CHECK_SCRIPTS += tests/stress/relay.sh
LINUX_E2E_SCRIPTS += tests/stress/relay.sh
STRESS_ITERATIONS ?= 200
.PHONY: stress
stress: all
	BUILD=$(BUILD) tests/stress/relay.sh $(STRESS_ITERATIONS)
