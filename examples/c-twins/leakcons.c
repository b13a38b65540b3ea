/* leakcons: depends on leakprov and calls its weak and its local function. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

int leakprov_weak(void);
int leakprov_local(void);

int leakcons_sum(void);
int
leakcons_sum(void)
{
	return (leakprov_weak() + leakprov_local());
}

static int
leakcons_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t leakcons_mod = { "leakcons", leakcons_modevent, NULL };
DECLARE_MODULE(leakcons, leakcons_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_DEPEND(leakcons, leakprov, 1, 1, 1);
