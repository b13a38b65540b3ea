/* busy: refuses to quiesce until released. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

static int busy_in_use = 1;

void busy_release(void);
void
busy_release(void)
{
	busy_in_use = 0;
}

static int
busy_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		printf("busy: loaded\n");
		return (0);
	case MOD_QUIESCE:
		if (busy_in_use) {
			printf("busy: still in use\n");
			return (EBUSY);
		}
		return (0);
	case MOD_UNLOAD:
		printf("busy: unloaded\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t busy_mod = { "busy", busy_modevent, NULL };
DECLARE_MODULE(busy, busy_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
