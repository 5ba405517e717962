/* config.json parser: a table of valid and invalid configs (each built by
 * merging a JSON patch, RFC 7386, into a minimal valid config), the values
 * of a full config, limits, and the VM shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "ops/config.h"

#define BASE "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}," \
	     "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}"
#define VM(x) "{\"vm\":{\"kernel\":{\"path\":\"/k\"}," x "}}"

struct ccase {
	const char *patch; /* merged into BASE; "!" prefix: the whole text as is */
	const char *want;  /* NULL: valid; else a substring of the error */
};

static const struct ccase cases[] = {
	{ "{}", NULL },
	{ "{\"ociVersion\":\"1.0.0\"}", NULL },
	{ "{\"ociVersion\":\"1.3.7\"}", NULL },
	{ "{\"ociVersion\":\"1.0.2-dev\"}", NULL },
	{ "{\"ociVersion\":\"1.1.0+git\"}", NULL },
	{ "{\"ociVersion\":\"2.0.0\"}", "ociVersion: \"2.0.0\" is not supported" },
	{ "{\"ociVersion\":\"1.4.0\"}", "ociVersion: \"1.4.0\" is not supported" },
	{ "{\"ociVersion\":\"1.0\"}", "ociVersion: \"1.0\" is not supported" },
	{ "{\"ociVersion\":\"1.0.x\"}", "ociVersion: \"1.0.x\" is not supported" },
	{ "{\"ociVersion\":1}", "ociVersion: must be a string" },
	{ "{\"ociVersion\":null}", "ociVersion: required" },
	{ "{\"root\":null}", "root: required" },
	{ "{\"root\":\"x\"}", "root: must be an object" },
	{ "{\"root\":{\"path\":5}}", "root.path: must be a string" },
	{ "{\"root\":{\"path\":\"\"}}", "root.path: must not be empty" },
	{ "{\"root\":{\"readonly\":\"yes\"}}", "root.readonly: must be a boolean" },
	{ "{\"process\":null}", NULL },
	{ "{\"process\":[]}", "process: must be an object" },
	{ "{\"process\":{\"args\":\"sh\"}}", "process.args: must be an array" },
	{ "{\"process\":{\"args\":[\"sh\",1]}}", "process.args[1]: must be a string" },
	{ "{\"process\":{\"args\":[\"\"]}}", NULL },
	{ "{\"process\":{\"cwd\":\"rel\"}}", "process.cwd: must be an absolute path" },
	{ "{\"process\":{\"cwd\":null}}", "process.cwd: required" },
	{ "{\"process\":{\"user\":null}}", "process.user: required" },
	{ "{\"process\":{\"user\":{\"uid\":-1}}}", "process.user.uid: out of range" },
	{ "{\"process\":{\"user\":{\"uid\":1.5}}}", "process.user.uid: must be an integer" },
	{ "{\"process\":{\"user\":{\"gid\":\"0\"}}}", "process.user.gid: must be a number" },
	{ "{\"process\":{\"user\":{\"uid\":4294967296}}}", "process.user.uid: must be between" },
	{ "{\"process\":{\"user\":{\"umask\":512}}}", "process.user.umask: must be between" },
	{ "{\"process\":{\"user\":{\"additionalGids\":[1,\"a\"]}}}",
	  "process.user.additionalGids[1]: must be a number" },
	{ "{\"process\":{\"env\":[\"NOEQ\"]}}", "process.env[0]: must be NAME=VALUE" },
	{ "{\"process\":{\"env\":[\"=x\"]}}", "process.env[0]: must be NAME=VALUE" },
	{ "{\"process\":{\"terminal\":1}}", "process.terminal: must be a boolean" },
	{ "{\"process\":{\"noNewPrivileges\":\"true\"}}", "process.noNewPrivileges: must be a boolean" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
	  "process.rlimits[0].type: unknown rlimit" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
	  "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1}]}}", "process.rlimits[1].type: duplicate" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]}}",
	  "process.rlimits[0]: soft above hard" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1}]}}",
	  "process.rlimits[0].soft: required" },
	{ "{\"process\":{\"rlimits\":[5]}}", "process.rlimits[0]: must be an object" },
	{ "{\"process\":{\"capabilities\":{\"bounding\":[\"chown\"]}}}",
	  "process.capabilities.bounding[0]: \"chown\" is not a capability name" },
	{ "{\"process\":{\"capabilities\":{\"ambient\":\"CAP_KILL\"}}}",
	  "process.capabilities.ambient: must be an array" },
	{ "{\"process\":{\"capabilities\":[]}}", "process.capabilities: must be an object" },
	{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\",\"CAP_TEST\"]}}}",
	  "process.capabilities.bounding[2]: unknown capability CAP_TEST" },
	{ "{\"process\":{\"capabilities\":{\"effective\":[\"CAP_NOPE\"]}}}",
	  "process.capabilities.effective[0]: unknown capability CAP_NOPE" },
	{ "{\"process\":{\"capabilities\":{\"inheritable\":[\"CAP_NOPE\"]}}}",
	  "process.capabilities.inheritable[0]: unknown capability CAP_NOPE" },
	{ "{\"process\":{\"capabilities\":{\"permitted\":[\"CAP_NOPE\"]}}}",
	  "process.capabilities.permitted[0]: unknown capability CAP_NOPE" },
	{ "{\"process\":{\"capabilities\":{\"ambient\":[\"CAP_CHECKPOINT_RESTORE\",\"CAP_NOPE\"]}}}",
	  "process.capabilities.ambient[1]: unknown capability CAP_NOPE" },
	{ "{\"process\":{\"capabilities\":{\"ambient\":[\"CAP_CHECKPOINT_RESTORE\",\"CAP_BPF\"]}}}", NULL },
	{ "{\"process\":{\"oomScoreAdj\":1001}}", "process.oomScoreAdj: must be between -1000 and 1000" },
	{ "{\"process\":{\"oomScoreAdj\":-1000}}", NULL },
	{ "{\"process\":{\"consoleSize\":{\"height\":24,\"width\":80}}}", NULL },
	{ "{\"process\":{\"consoleSize\":{\"height\":65535,\"width\":1}}}", NULL },
	{ "{\"process\":{\"consoleSize\":{\"height\":0,\"width\":0}}}", NULL },
	{ "{\"process\":{\"consoleSize\":null}}", NULL },
	{ "{\"process\":{\"consoleSize\":[24,80]}}", "process.consoleSize: must be an object" },
	{ "{\"process\":{\"consoleSize\":{\"width\":80}}}", "process.consoleSize.height: required" },
	{ "{\"process\":{\"consoleSize\":{\"height\":24}}}", "process.consoleSize.width: required" },
	{ "{\"process\":{\"consoleSize\":{\"height\":65536,\"width\":80}}}",
	  "process.consoleSize.height: must be between 0 and 65535" },
	{ "{\"process\":{\"consoleSize\":{\"height\":24,\"width\":-1}}}",
	  "process.consoleSize.width: out of range" },
	{ "{\"process\":{\"consoleSize\":{\"height\":24,\"width\":\"80\"}}}",
	  "process.consoleSize.width: must be a number" },
	{ "{\"process\":{\"consoleSize\":{\"height\":2.5,\"width\":80}}}",
	  "process.consoleSize.height: must be an integer" },
	{ "{\"process\":{\"consoleSize\":{\"height\":24,\"width\":0}}}",
	  "process.consoleSize.width: must be 1 to 65535 (or both 0: no size)" },
	{ "{\"process\":{\"consoleSize\":{\"height\":0,\"width\":80}}}",
	  "process.consoleSize.height: must be 1 to 65535" },
	{ "{\"hostname\":7}", "hostname: must be a string" },
	{ "{\"hostname\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	  "hostname: longer than 64 bytes" },
	{ "{\"domainname\":[]}", "domainname: must be a string" },
	{ "{\"mounts\":{}}", "mounts: must be an array" },
	{ "{\"mounts\":[{\"type\":\"proc\"}]}", "mounts[0].destination: required" },
	{ "{\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"b\"}]}",
	  "mounts[1].destination: must be an absolute path" },
	{ "{\"mounts\":[{\"destination\":\"/a\",\"options\":[1]}]}", "mounts[0].options[0]: must be a string" },
	{ "{\"hooks\":[]}", "hooks: must be an object" },
	{ "{\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}", "hooks.prestart[0].path: must be an absolute path" },
	{ "{\"hooks\":{\"createRuntime\":{}}}", "hooks.createRuntime: must be an array" },
	{ "{\"hooks\":{\"poststop\":[{\"path\":\"/x\",\"timeout\":0}]}}",
	  "hooks.poststop[0].timeout: must be between 1" },
	{ "{\"hooks\":{\"startContainer\":[{\"args\":[]}]}}", "hooks.startContainer[0].path: required" },
	{ "{\"hooks\":{\"poststart\":[{\"path\":\"/x\",\"env\":\"A=1\"}]}}",
	  "hooks.poststart[0].env: must be an array" },
	{ "{\"annotations\":{\"a\":1}}", "annotations[\"a\"]: must be a string" },
	{ "{\"annotations\":[]}", "annotations: must be an object" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}", "linux.namespaces[0].type: unknown namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
	  "linux.namespaces[1].type: duplicate pid" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"rel\"}]}}",
	  "linux.namespaces[0].path: must be an absolute path" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/run/netns/x\"}]}}", NULL },
	{ "{\"process\":{\"user\":{\"uid\":10}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}",
	  "process.user.uid: 10 is not mapped by linux.uidMappings" },
	{ "{\"process\":{\"user\":{\"uid\":9,\"gid\":12}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}",
	  "process.user.gid: 12 is not mapped by linux.gidMappings" },
	{ "{\"process\":{\"user\":{\"additionalGids\":[3,10]}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}",
	  "process.user.additionalGids[1]: 10 is not mapped by linux.gidMappings" },
	{ "{\"process\":{\"user\":{\"uid\":9,\"gid\":9,\"additionalGids\":[3]}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}", NULL },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}", NULL },
	{ "{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}", "linux.uidMappings: mappings need a user namespace in linux.namespaces" },
	{ "{\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}", "linux.gidMappings: mappings need a user namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}", "linux.namespaces: a user namespace needs linux.uidMappings and linux.gidMappings" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}", "a user namespace needs" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000}]}}",
	  "linux.uidMappings[0].size: required" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]}}",
	  "linux.uidMappings[0].size: must be between 1" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"uidMappings\":[{\"containerID\":4294967295,\"hostID\":0,\"size\":2}]}}",
	  "linux.uidMappings[0]: the range passes 4294967295" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10},"
	  "{\"containerID\":10,\"hostID\":1005,\"size\":10}]}}", "linux.gidMappings[1]: overlaps linux.gidMappings[0]" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10},"
	  "{\"containerID\":10,\"hostID\":1010,\"size\":10}]}}", NULL },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],\"uidMappings\":{}}}", "linux.uidMappings: must be an array" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"uts\"},{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]}}",
	  "linux.namespaces[1].path: cannot join an existing pid namespace: the container runs in its own VM" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing mount namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/x\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing ipc namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"uts\",\"path\":\"/x\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing uts namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/x\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing user namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"cgroup\",\"path\":\"/x\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing cgroup namespace" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"time\",\"path\":\"/x\"}]}}",
	  "linux.namespaces[0].path: cannot join an existing time namespace" },
	{ "{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
	  "linux.resources.memory.limit: must be a number" },
	{ "{\"linux\":{\"resources\":{\"memory\":{\"limit\":-2}}}}",
	  "linux.resources.memory.limit: must be between -1" },
	{ "{\"linux\":{\"resources\":{\"cpu\":{\"period\":0}}}}", "linux.resources.cpu.period: must be between 1" },
	{ "{\"linux\":{\"resources\":{\"cpu\":{\"quota\":true}}}}", "linux.resources.cpu.quota: must be a number" },
	{ "{\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"a-b\"}}}}", "linux.resources.cpu.cpus: must be a cpu list" },
	{ "{\"linux\":{\"resources\":{\"cpu\":{\"shares\":1}}}}", "linux.resources.cpu.shares: must be between 2" },
	{ "{\"linux\":{\"resources\":{\"pids\":{\"limit\":-2}}}}", "linux.resources.pids.limit: must be between -1" },
	{ "{\"linux\":{\"resources\":{\"pids\":[]}}}", "linux.resources.pids: must be an object" },
	{ "{\"linux\":{\"sysctl\":{\"a\":1}}}", "linux.sysctl[\"a\"]: must be a string" },
	{ "{\"linux\":{\"maskedPaths\":[\"rel\"]}}", "linux.maskedPaths[0]: must be an absolute path" },
	{ "{\"linux\":{\"readonlyPaths\":\"/a\"}}", "linux.readonlyPaths: must be an array" },
	{ "{\"linux\":{\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]}}", "linux.devices[0].type: must be one of" },
	{ "{\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\"}]}}", "linux.devices[0].major: required" },
	{ "{\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"fileMode\":\"rw\"}]}}",
	  "linux.devices[0].fileMode: must be a number" },
#define DEV(x) "{\"linux\":{\"devices\":[" x "]}}"
	{ DEV("{\"type\":\"c\",\"major\":1,\"minor\":3}"), "linux.devices[0].path: required" },
	{ DEV("{\"type\":\"c\",\"path\":\"dev/x\",\"major\":1,\"minor\":3}"), "linux.devices[0].path: must be an absolute path" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/\",\"major\":1,\"minor\":3}"), "linux.devices[0].path: must name a file" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/..\",\"major\":1,\"minor\":3}"), "linux.devices[0].path: must name a file" },
	{ DEV("{\"path\":\"/dev/x\",\"major\":1,\"minor\":3}"), "linux.devices[0].type: required" },
	{ DEV("{\"type\":\"cb\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3}"), "linux.devices[0].type: " },
	{ DEV("{\"type\":\"b\",\"path\":\"/dev/x\",\"major\":1}"), "linux.devices[0].minor: required" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":4096,\"minor\":3}"), "linux.devices[0].major: must be between 0 and 4095" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":-1,\"minor\":3}"), "linux.devices[0].major: must be between" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1048576}"), "linux.devices[0].minor: must be between 0 and 1048575" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"fileMode\":4096}"), "linux.devices[0].fileMode: must be between 0 and 4095" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"uid\":-1}"), "linux.devices[0].uid: out of range" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"uid\":4294967295}"), "linux.devices[0].uid: must be between 0 and 4294967294" },
	{ DEV("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"gid\":\"0\"}"), "linux.devices[0].gid: must be a number" },
	{ DEV("{\"type\":\"p\",\"path\":\"/dev/f\"},{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":3,\"gid\":4294967295}"), "linux.devices[1].gid: must be between" },
	{ DEV("5"), "linux.devices[0]: must be an object" },
#undef DEV
	{ "{\"linux\":5}", "linux: must be an object" },
	/* vm */
	{ "{\"vm\":\"x\"}", "vm: must be an object" },
	{ "{\"vm\":{}}", "vm.kernel: required" },
	{ "{\"vm\":{\"kernel\":{}}}", "vm.kernel.path: required" },
	{ "{\"vm\":{\"kernel\":[]}}", "vm.kernel: must be an object" },
	{ "{\"vm\":{\"kernel\":{\"path\":\"vmlinuz\"}}}", "vm.kernel.path: must be an absolute path" },
	{ "{\"vm\":{\"kernel\":{\"path\":3}}}", "vm.kernel.path: must be a string" },
	{ "{\"vm\":{\"kernel\":{\"path\":\"/k\",\"parameters\":\"quiet\"}}}", "vm.kernel.parameters: must be an array" },
	{ "{\"vm\":{\"kernel\":{\"path\":\"/k\",\"parameters\":[\"a\",false]}}}",
	  "vm.kernel.parameters[1]: must be a string" },
	{ "{\"vm\":{\"kernel\":{\"path\":\"/k\",\"initrd\":\"initrd.img\"}}}", "vm.kernel.initrd: must be an absolute path" },
	{ "{\"vm\":{\"kernel\":{\"path\":\"/k\",\"initrd\":[]}}}", "vm.kernel.initrd: must be a string" },
	{ VM("\"hypervisor\":{}"), NULL },
	{ VM("\"hypervisor\":{\"parameters\":[\"a\"]}"), "vm.hypervisor.path: required" },
	{ VM("\"hypervisor\":{\"path\":\"qemu\"}"), "vm.hypervisor.path: must be an absolute path" },
	{ VM("\"hypervisor\":\"qemu\""), "vm.hypervisor: must be an object" },
	{ VM("\"hypervisor\":{\"path\":\"/q\",\"parameters\":[true]}"), "vm.hypervisor.parameters[0]: must be a string" },
	{ VM("\"image\":{}"), NULL },
	{ VM("\"image\":{\"path\":\"/i.img\",\"format\":\"raw\"}"), NULL },
	{ VM("\"image\":{\"path\":\"/i.img\"}"), "vm.image.format: required" },
	{ VM("\"image\":{\"format\":\"raw\"}"), "vm.image.path: required" },
	{ VM("\"image\":{\"path\":\"i.img\",\"format\":\"raw\"}"), "vm.image.path: must be an absolute path" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":\"qcow2\"}"), "vm.image.format: qcow2 images are not supported" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":\"vdi\"}"), "vm.image.format: vdi images are not supported" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":\"vmdk\"}"), "vm.image.format: vmdk images are not supported" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":\"vhd\"}"), "vm.image.format: vhd images are not supported" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":\"iso\"}"), "vm.image.format: \"iso\" is not one of" },
	{ VM("\"image\":{\"path\":\"/i\",\"format\":1}"), "vm.image.format: must be a string" },
	{ VM("\"image\":[]"), "vm.image: must be an object" },
	{ VM("\"hwConfig\":{}"), NULL },
	{ VM("\"hwConfig\":{\"vcpus\":2,\"memory\":536870912}"), NULL },
	{ VM("\"hwConfig\":{\"vcpus\":0}"), "vm.hwConfig.vcpus: must be between 1" },
	{ VM("\"hwConfig\":{\"vcpus\":257}"), "vm.hwConfig.vcpus: must be between 1 and 256" },
	{ VM("\"hwConfig\":{\"vcpus\":\"2\"}"), "vm.hwConfig.vcpus: must be a number" },
	{ VM("\"hwConfig\":{\"vcpus\":2.5}"), "vm.hwConfig.vcpus: must be an integer" },
	{ VM("\"hwConfig\":{\"memory\":1024}"), "vm.hwConfig.memory: 1024 bytes is less than the 96 MiB" },
	{ VM("\"hwConfig\":{\"memory\":100663295}"), "vm.hwConfig.memory: 100663295 bytes is less than the 96 MiB "
	  "the guest kernel and ocivm-init need to boot" },
	{ VM("\"hwConfig\":{\"memory\":100663296}"), NULL },
	{ VM("\"hwConfig\":{\"memory\":0}"), "vm.hwConfig.memory: must be between 1" },
	{ VM("\"hwConfig\":{\"memory\":\"1G\"}"), "vm.hwConfig.memory: must be a number" },
	{ VM("\"hwConfig\":{\"memory\":1e300}"), "vm.hwConfig.memory: out of range" },
	{ VM("\"hwConfig\":{\"deviceTree\":\"/x.dtb\"}"), "vm.hwConfig.deviceTree: not supported" },
	{ VM("\"hwConfig\":{\"deviceTree\":\"x.dtb\"}"), "vm.hwConfig.deviceTree: must be an absolute path" },
	{ VM("\"hwConfig\":{\"dtdevs\":[\"a\"]}"), "vm.hwConfig: device passthrough" },
	{ VM("\"hwConfig\":{\"dtdevs\":[1]}"), "vm.hwConfig.dtdevs[0]: must be a string" },
	{ VM("\"hwConfig\":{\"iomems\":[{\"firstGFN\":1}]}"), "vm.hwConfig.iomems[0].firstMFN: required" },
	{ VM("\"hwConfig\":{\"iomems\":[{\"firstMFN\":1,\"nrMFNs\":2}]}"), "vm.hwConfig: device passthrough" },
	{ VM("\"hwConfig\":{\"iomems\":[1]}"), "vm.hwConfig.iomems[0]: must be an object" },
	{ VM("\"hwConfig\":{\"irqs\":[-1]}"), "vm.hwConfig.irqs[0]: out of range" },
	{ VM("\"hwConfig\":{\"irqs\":{}}"), "vm.hwConfig.irqs: must be an array" },
	{ VM("\"hwConfig\":5"), "vm.hwConfig: must be an object" },
	/* whole texts */
	{ "!{", "config.json: invalid JSON" },
	{ "![]", "config.json: must be a JSON object" },
	{ "!" BASE " x", "config.json: trailing bytes" },
	{ "!" BASE "\n", NULL },
};

static char *merged(const char *patch)
{
	cJSON *base = cJSON_Parse(BASE), *p = cJSON_Parse(patch);
	assert_non_null(base);
	if (!p)
		fail_msg("bad patch in table: %s", patch);
	/* RFC 7386 merge, recursive */
	cJSON *stack_t[16], *stack_p[16];
	int sp = 0;
	stack_t[sp] = base;
	stack_p[sp++] = p;
	while (sp) {
		cJSON *t = stack_t[--sp], *pp = stack_p[sp], *it;
		cJSON_ArrayForEach(it, pp) {
			cJSON *cur = cJSON_GetObjectItemCaseSensitive(t, it->string);
			if (cJSON_IsNull(it)) {
				cJSON_DeleteItemFromObjectCaseSensitive(t, it->string);
			} else if (cJSON_IsObject(it) && cJSON_IsObject(cur) && sp < 16) {
				stack_t[sp] = cur;
				stack_p[sp++] = it;
			} else {
				cJSON_DeleteItemFromObjectCaseSensitive(t, it->string);
				cJSON_AddItemToObject(t, it->string, cJSON_Duplicate(it, 1));
			}
		}
	}
	char *s = cJSON_PrintUnformatted(base);
	cJSON_Delete(base);
	cJSON_Delete(p);
	return s;
}

static void test_table(void **state)
{
	int failed = 0, valid = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ccase *c = &cases[i];
		char *text = c->patch[0] == '!' ? strdup(c->patch + 1) : merged(c->patch);
		struct ops_config *cfg = NULL;
		struct oerr err = { 0 };
		int r = ops_config_parse(text, strlen(text), &cfg, &err);
		int ok = c->want ? (r == -EINVAL && cfg == NULL && strstr(err.msg, c->want) &&
				    err.code == EINVAL)
				 : (r == 0 && cfg != NULL);
		if (!ok) {
			print_error("case %zu: %s\n  want %s, got %d \"%s\"\n", i, c->patch,
				    c->want ? c->want : "valid", r, err.msg);
			failed++;
		}
		valid += c->want == NULL;
		ops_config_free(cfg);
		free(text);
	}
	print_message("%zu config cases (%d valid, %zu invalid)\n",
		      sizeof(cases) / sizeof(cases[0]), valid,
		      sizeof(cases) / sizeof(cases[0]) - (size_t)valid);
	assert_int_equal(failed, 0);
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
}

static struct ops_config *load(const char *name)
{
	char path[512], *text = NULL;
	size_t len;
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", getenv("CONFIG_DIR") ? getenv("CONFIG_DIR") :
		 "tests/ops/configs", name);
	assert_int_equal(file_read_all(path, 1 << 20, &text, &len), 0);
	if (ops_config_parse(text, len, &cfg, &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	free(text);
	return cfg;
}

static void test_full_values(void **state)
{
	struct ops_config *c = load("full.json");
	const struct ops_process *p = &c->process;

	assert_string_equal(c->oci_version, "1.3.0");
	assert_string_equal(c->root_path, "rootfs");
	assert_true(c->root_readonly);
	assert_true(p->present && p->terminal && p->no_new_privileges);
	assert_int_equal(p->console_height, 40);
	assert_int_equal(p->console_width, 120);
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->gid, 100);
	assert_int_equal(p->umask, 022);
	assert_int_equal(p->n_gids, 2);
	assert_int_equal(p->gids[1], 6);
	assert_int_equal(p->args.n, 3);
	assert_string_equal(p->args.v[2], "echo hi");
	assert_string_equal(p->env.v[1], "TERM=xterm");
	assert_string_equal(p->cwd, "/home");
	assert_int_equal(p->n_rlimits, 2);
	assert_true(p->rlimits[1].hard == UINT64_MAX);
	assert_int_equal(p->caps[OPS_CAP_BOUNDING].n, 2);
	assert_int_equal(p->caps[OPS_CAP_AMBIENT].n, 0);
	assert_int_equal(p->oom_score_adj, -500);
	assert_string_equal(c->hostname, "box");
	assert_string_equal(c->domainname, "example.org");
	assert_int_equal(c->n_mounts, 2);
	assert_string_equal(c->mounts[0].options.v[1], "noexec");
	assert_null(c->mounts[1].source);
	assert_int_equal(c->hooks[OPS_HOOK_CREATE_RUNTIME].v[0].timeout, 5);
	assert_int_equal(c->hooks[OPS_HOOK_POSTSTOP].n, 2);
	assert_int_equal(c->annotations.n, 2);
	assert_string_equal(c->annotations.v[0].key, "org.example.key");
	assert_int_equal(c->linux_.n_namespaces, 3);
	assert_int_equal(c->linux_.n_uid_maps, 1);
	assert_int_equal(c->linux_.uid_maps[0].host_id, 100000);
	assert_int_equal(c->linux_.n_gid_maps, 2);
	assert_int_equal(c->linux_.gid_maps[1].container_id, 1);
	assert_int_equal(c->linux_.gid_maps[1].size, 65535);
	assert_string_equal(c->linux_.namespaces[1].path, "/proc/1/ns/net");
	assert_int_equal(c->linux_.memory_limit, 104857600);
	assert_true(c->linux_.has_cpu_shares && c->linux_.cpu_shares == 512);
	assert_true(c->linux_.has_pids_limit && c->linux_.pids_limit == 64);
	assert_string_equal(c->linux_.sysctl.v[0].value, "1");
	assert_int_equal(c->linux_.n_devices, 3);
	assert_string_equal(c->linux_.devices[0].path, "/dev/fuse");
	assert_string_equal(c->linux_.devices[0].type, "c");
	assert_int_equal(c->linux_.devices[0].major, 10);
	assert_int_equal(c->linux_.devices[0].minor, 229);
	assert_true(c->linux_.devices[0].has_file_mode && c->linux_.devices[0].has_uid &&
		    c->linux_.devices[0].has_gid);
	assert_int_equal(c->linux_.devices[0].file_mode, 0644);
	assert_int_equal(c->linux_.devices[0].uid, 1);
	assert_int_equal(c->linux_.devices[0].gid, 2);
	assert_string_equal(c->linux_.devices[1].type, "p");   /* no numbers for a FIFO */
	assert_false(c->linux_.devices[1].has_file_mode || c->linux_.devices[1].has_uid ||
		     c->linux_.devices[1].has_gid);
	assert_int_equal(c->linux_.devices[2].major, 254);
	assert_int_equal(c->linux_.devices[2].minor, 16);
	assert_true(c->vm.present && c->vm.has_hypervisor && c->vm.has_image);
	assert_string_equal(c->vm.kernel_path, "/boot/vmlinuz");
	assert_string_equal(c->vm.initrd, "/boot/initrd.img");
	assert_int_equal(c->vm.kernel_params.n, 2);
	assert_string_equal(c->vm.hypervisor_params.v[0], "-nographic");
	assert_int_equal(c->vm.image_format, OPS_IMAGE_RAW);
	assert_int_equal(c->vm.vcpus, 2);
	assert_true(c->vm.memory == 512ull << 20);
	ops_config_free(c);

	c = load("minimal.json");
	assert_false(c->vm.present);
	assert_false(c->has_linux);
	assert_int_equal(c->process.umask, -1);
	assert_false(c->process.has_oom_score_adj);
	ops_config_free(c);
}

static int parse_text(const char *text, struct oerr *err)
{
	struct ops_config *cfg = NULL;
	int r = ops_config_parse(text, strlen(text), &cfg, err);
	ops_config_free(cfg);
	return r;
}

static void test_limits(void **state)
{
	struct oerr err = { 0 };
	size_t n = 2 * 1024 * 1024;
	char *big = malloc(n + 1);

	/* oversized file */
	memset(big, ' ', n);
	big[n] = '\0';
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(parse_text(big, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "larger than"));

	/* too many args */
	char *p = big;
	p += sprintf(p, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{"
		     "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[");
	for (int i = 0; i < 1025; i++)
		p += sprintf(p, "%s\"a\"", i ? "," : "");
	strcpy(p, "]}}");
	oerr_clear(&err);
	assert_int_equal(parse_text(big, &err), -EINVAL);
	assert_string_equal(err.msg, "process.args: more than 1024 entries");

	/* an over-long string */
	p = big + sprintf(big, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"hostname\":\"x\","
			  "\"annotations\":{\"k\":\"");
	memset(p, 'v', 5000);
	strcpy(p + 5000, "\"}}");
	oerr_clear(&err);
	assert_int_equal(parse_text(big, &err), -EINVAL);
	assert_string_equal(err.msg, "annotations[\"k\"]: longer than 4096 bytes");

	/* deep nesting is refused by cJSON's own limit, not a crash */
	p = big + sprintf(big, "{\"ociVersion\":\"1.0.0\",\"x\":");
	for (int i = 0; i < 5000; i++)
		*p++ = '[';
	*p = '\0';
	oerr_clear(&err);
	assert_int_equal(parse_text(big, &err), -EINVAL);
	free(big);
}

static void shape(const char *patch, unsigned want_vcpus, uint64_t want_mib)
{
	char *text = merged(patch);
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };
	unsigned v;
	uint64_t m;

	if (ops_config_parse(text, strlen(text), &cfg, &err) < 0)
		fail_msg("%s: %s", patch, err.msg);
	ops_config_vm_shape(cfg, 3, 300, &v, &m);
	if (v != want_vcpus || m != want_mib)
		fail_msg("%s: got %u vcpus %llu MiB", patch, v, (unsigned long long)m);
	ops_config_free(cfg);
	free(text);
}

static void test_vm_shape(void **state)
{
	shape("{}", 3, 300);
	shape(VM("\"hwConfig\":{\"vcpus\":2,\"memory\":536870913}"), 2, 513);
	shape("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":150000,\"period\":100000},"
	      "\"memory\":{\"limit\":104857601}}}}", 2, 101 + 96);
	shape("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":50000}}}}", 1, 300);
	shape("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":-1,\"cpus\":\"0-3,6\"},"
	      "\"memory\":{\"limit\":-1}}}}", 5, 300);
	/* the container's limit is not the VM's RAM: limit + 96 MiB, at least 96 */
	shape("{\"linux\":{\"resources\":{\"memory\":{\"limit\":1048576}}}}", 3, 97);
	shape("{\"linux\":{\"resources\":{\"memory\":{\"limit\":50593792}}}}", 3, 49 + 96);
	shape("{\"linux\":{\"resources\":{\"memory\":{\"limit\":134217728}}}}", 3, 128 + 96);
	shape("{\"linux\":{\"resources\":{\"memory\":{\"limit\":0}}}}", 3, 300);
	shape(VM("\"hwConfig\":{\"memory\":100663296}"), 3, 96);
	/* hwConfig wins over resources */
	shape("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":800000}}},"
	      "\"vm\":{\"kernel\":{\"path\":\"/k\"},\"hwConfig\":{\"vcpus\":1}}}", 1, 300);
}

/* The network path at create (ops_config_netns_check): a network
 * namespace file passes, anything else is EINVAL with the reason; a bundle
 * not owned by root may name none (EPERM). */
static void netns_case(const char *path, uid_t uid, int want, const char *want_msg)
{
	char patch[512];
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };

	snprintf(patch, sizeof(patch), "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
		 "{\"type\":\"network\"%s%s%s}]}}", path ? ",\"path\":\"" : "",
		 path ? path : "", path ? "\"" : "");
	char *text = merged(patch);
	assert_int_equal(ops_config_parse(text, strlen(text), &cfg, &err), 0);
	if (path)
		assert_string_equal(ops_config_netns(cfg), path);
	else
		assert_null(ops_config_netns(cfg));
	int r = ops_config_netns_check(cfg, uid, &err);
	if (r != want || (want_msg && !strstr(err.msg, want_msg)))
		fail_msg("%s: want %d \"%s\", got %d \"%s\"", path ? path : "(none)", want,
			 want_msg ? want_msg : "", r, err.msg);
	if (want)
		assert_int_equal(err.code, -want);
	ops_config_free(cfg);
	free(text);
}

static void test_netns_check(void **state)
{
	netns_case(NULL, 0, 0, NULL);
	netns_case("/proc/self/ns/net", 0, 0, NULL);
	netns_case("/proc/self/ns/pid", 0, -EINVAL,
		   "linux.namespaces[1].path /proc/self/ns/pid: a namespace, but not a network namespace");
	netns_case("/proc/self/ns/uts", 0, -EINVAL, "not a network namespace");
	netns_case("/nonexistent-ocivm/netns", 0, -EINVAL,
		   "linux.namespaces[1].path /nonexistent-ocivm/netns: No such file or directory");
	netns_case("/etc/hostname", 0, -EINVAL, "/etc/hostname: not a namespace file");
	netns_case("/proc/self", 0, -EINVAL, "not a namespace file");
	netns_case("/dev/null", 0, -EINVAL, "not a namespace file");
	netns_case("/proc/self/ns/net", 1000, -EPERM, "the bundle belongs to uid 1000");
	/* no network path: nothing to check, whoever owns the bundle */
	netns_case(NULL, 1000, 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_full_values),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_vm_shape),
		cmocka_unit_test(test_netns_check),
	};
	return cmocka_run_group_tests_name("ops_config", tests, NULL, NULL);
}
