#!/usr/bin/env bash
# The README's main command: drives the bundled busybox container through the
# mounted tree, printing each file operation.
echo "ocivmfs demo: not yet — the daemon and the VM path are still being built" >&2
exit 1
