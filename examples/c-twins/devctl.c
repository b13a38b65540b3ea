/*
 * devctl: announces its load and unload through devctl_notify(9), which every FreeBSD
 * 14.x/15.x kernel exports (sys/sys/devctl.h) and the simulator does not implement.
 * `cargo kmod check` passes it; `cargo kmod run` stops before MOD_LOAD with the
 * "cannot simulate" verdict naming devctl_notify.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/devctl.h>

static int
devctl_example_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		printf("devctl_example: loaded\n");
		devctl_notify("KERNEL", "devctl_example", "LOAD", NULL);
		return (0);
	case MOD_UNLOAD:
		devctl_notify("KERNEL", "devctl_example", "UNLOAD", NULL);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t devctl_example_mod = {
	"devctl_example", devctl_example_modevent, NULL
};
DECLARE_MODULE(devctl_example, devctl_example_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(devctl_example, 1);
