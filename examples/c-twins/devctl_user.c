/* devctl_user: depends on devctl_example (devctl.c), found through the module path. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

static int
devctl_user_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t devctl_user_mod = { "devctl_user", devctl_user_modevent, NULL };
DECLARE_MODULE(devctl_user, devctl_user_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_DEPEND(devctl_user, devctl_example, 1, 1, 1);
