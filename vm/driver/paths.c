/* The files one VM keeps in its run_dir. */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int vm_paths_init(struct vm_paths *p, const char *run_dir, struct oerr *err)
{
	if (!run_dir || run_dir[0] != '/')
		return oerr_set(err, EINVAL, "vm run_dir: must be an absolute path");
	/* the longest name below, and room for the jail's run_dir/root/lib64 */
	if (strlen(run_dir) + sizeof("/hypervisor.log") + 32 > sizeof(p->run_dir))
		return oerr_set(err, ENAMETOOLONG, "vm run_dir %.80s...: longer than %zu bytes",
				run_dir, sizeof(p->run_dir) - sizeof("/hypervisor.log") - 32);
	memset(p, 0, sizeof(*p));
	snprintf(p->run_dir, sizeof(p->run_dir), "%s", run_dir);
	snprintf(p->chan_sock, sizeof(p->chan_sock), "%s/chan.sock", run_dir);
	snprintf(p->control_sock, sizeof(p->control_sock), "%s/control.sock", run_dir);
	snprintf(p->console, sizeof(p->console), "%s/console", run_dir);
	snprintf(p->log, sizeof(p->log), "%s/hypervisor.log", run_dir);
	snprintf(p->vm_json, sizeof(p->vm_json), "%s/vm.json", run_dir);
	snprintf(p->hello, sizeof(p->hello), "%s/hello", run_dir);
	return 0;
}
