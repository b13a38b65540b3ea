/* consumer: depends on provider and calls into it. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

int provider_value(void);

static int
consumer_modevent(module_t mod, int what, void *arg)
{
	if (what == MOD_LOAD)
		printf("consumer: provider_value() = %d\n", provider_value());
	else if (what == MOD_UNLOAD)
		printf("consumer: unloaded\n");
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t consumer_mod = { "consumer", consumer_modevent, NULL };
DECLARE_MODULE(consumer, consumer_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_DEPEND(consumer, provider, 1, 1, 1);
MODULE_VERSION(consumer, 1);
