/* missingdep: depends on a module nobody provides. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

static int
missingdep_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t missingdep_mod = { "missingdep", missingdep_modevent, NULL };
DECLARE_MODULE(missingdep, missingdep_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_DEPEND(missingdep, nonexistent_module, 1, 1, 1);
