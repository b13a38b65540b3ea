/* provider: a module other modules depend on. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

int provider_value(void);
int
provider_value(void)
{
	return (42);
}

static int
provider_modevent(module_t mod, int what, void *arg)
{
	if (what == MOD_LOAD)
		printf("provider: loaded\n");
	else if (what == MOD_UNLOAD)
		printf("provider: unloaded\n");
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t provider_mod = { "provider", provider_modevent, NULL };
DECLARE_MODULE(provider, provider_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(provider, 1);
