#!/bin/sh
# mkbundle.sh OUT [BUSYBOX]
# The bundled default OCI bundle: OUT/rootfs holds Debian's static busybox
# (busybox-static) with a link per applet, OUT/config.json runs `sh` on a
# terminal (the defaults of `runc spec`).  Idempotent: rebuilt only when the
# busybox binary or this script is newer than OUT/config.json.
set -eu
out=$1
bb=${2:-/bin/busybox}
self=$0

[ -x "$bb" ] || { echo "mkbundle: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'dynamically linked' &&
	{ echo "mkbundle: $bb is not static (install busybox-static)" >&2; exit 1; }
if [ -e "$out/config.json" ] && [ ! "$bb" -nt "$out/config.json" ] && [ ! "$self" -nt "$out/config.json" ]; then
	echo "mkbundle: $out up to date"
	exit 0
fi

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/rootfs"
r="$tmp/rootfs"
for d in bin sbin usr/bin usr/sbin dev proc sys tmp etc root run var/tmp home; do mkdir -p "$r/$d"; done
chmod 1777 "$r/tmp" "$r/var/tmp"
cp "$bb" "$r/bin/busybox"
"$bb" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	case "$applet" in
	usr/*) ln -sf ../../bin/busybox "$r/$applet" ;;
	*) ln -sf ../bin/busybox "$r/$applet" ;;
	esac
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$r/etc/group"
printf 'ocivm\n' > "$r/etc/hostname"

cat > "$tmp/config.json" <<'JSON'
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": true,
		"user": { "uid": 0, "gid": 0 },
		"args": [ "sh" ],
		"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"ambient": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": false },
	"hostname": "busybox",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		  "options": [ "nosuid", "noexec", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": [ "nosuid", "noexec", "nodev", "ro" ] }
	],
	"linux": {
		"namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
		"maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			"/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
		"readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
	}
}
JSON
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
echo "mkbundle: $out ($(du -sh "$out/rootfs" | cut -f1) rootfs, $("$bb" --list-full | wc -l) applets)"
