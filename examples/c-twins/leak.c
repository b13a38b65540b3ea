/* leak: forgets to free one allocation. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>

static MALLOC_DEFINE(M_LEAKY, "leaky", "deliberately leaked memory");
static void *leaked;

static int
leak_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		leaked = malloc(100, M_LEAKY, M_WAITOK);
		return (0);
	case MOD_UNLOAD:
		return (0);	/* forgot free(leaked, M_LEAKY) */
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t leak_mod = { "leak", leak_modevent, NULL };
DECLARE_MODULE(leak, leak_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
