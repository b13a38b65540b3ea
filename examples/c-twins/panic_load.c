/* panic_load: panics while loading. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

static int
panic_modevent(module_t mod, int what, void *arg)
{
	if (what == MOD_LOAD)
		panic("panic_load: deliberate panic, code %d (%s)", 7, "on load");
	return (0);
}

static moduledata_t panic_mod = { "panic_load", panic_modevent, NULL };
DECLARE_MODULE(panic_load, panic_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
