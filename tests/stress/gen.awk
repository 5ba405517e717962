# gen.awk: the known output of the stress containers, run by busybox awk in
# the guest and again on the host to regenerate the expected bytes.
#   -v it=ITERATION size=BYTES code=STATUS [pause=LINES] [hold=1]
# Writes exactly `size` bytes of numbered lines to stdout and as many to
# stderr, interleaved (both flushed every 97 lines), sleeping 0.2 s every
# `pause` lines; then exits with `code`, or with hold=1 flushes and waits to
# be killed (its stdout/stderr are then closed by a sleeping child only).
BEGIN {
	pad = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for (k = 0; k < 120; k++) p[k] = substr(pad pad, 1 + k % 60, k)
	o = 0; e = 0
	for (n = 1; o < size || e < size; n++) {
		if (o < size) o += line("/dev/stdout", "out", n, size - o)
		if (e < size) e += line("/dev/stderr", "err", n, size - e)
		if (n % 97 == 0) { fflush("/dev/stdout"); fflush("/dev/stderr") }
		if (pause && n % pause == 0) {
			fflush("/dev/stdout"); fflush("/dev/stderr"); system("sleep 0.2")
		}
	}
	fflush("/dev/stdout"); fflush("/dev/stderr")
	if (hold) system("exec sleep 100000 >&- 2>&-")
	exit code
}
# line FILE NAME N LEFT: one line, the last one padded to end at `size`
function line(f, s, n, left,    t) {
	t = s " " it " " n " " p[(n * 7 + it * 13) % 120]
	if (length(t) + 1 > left - 40) t = substr(t sprintf("%" left "s", ""), 1, left - 1)
	printf "%s\n", t > f
	return length(t) + 1
}
