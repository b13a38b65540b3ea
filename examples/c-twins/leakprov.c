/*
 * leakprov: a dependency whose weak and local (static) definitions other modules reach.
 * link_elf_obj.c answers a dependency lookup with the first defined symbol of the name,
 * local ones included while debug.link_elf_obj_leak_locals is 1 (its default).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

int leakprov_weak(void);
__weak_symbol int
leakprov_weak(void)
{
	return (7);
}

static __used __noinline int
leakprov_local(void)
{
	return (11);
}

static int
leakprov_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t leakprov_mod = { "leakprov", leakprov_modevent, NULL };
DECLARE_MODULE(leakprov, leakprov_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(leakprov, 1);
