/* failload: MOD_LOAD fails with ENXIO after allocating; the kernel sends MOD_UNLOAD,
 * releases the module and, since the file has no module left, unloads it (ENOEXEC). */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>

static MALLOC_DEFINE(M_FAILLOAD, "failload", "failload twin");
static void *state;

static int
failload_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		state = malloc(48, M_FAILLOAD, M_WAITOK | M_ZERO);
		return (ENXIO);
	case MOD_UNLOAD:
		printf("failload: MOD_UNLOAD cleans up\n");
		free(state, M_FAILLOAD);
		state = NULL;
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t failload_mod = { "failload", failload_modevent, NULL };
DECLARE_MODULE(failload, failload_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
