/*
 * nowait_reserve: C twin of examples/nowait-reserve. Every allocation is M_NOWAIT |
 * M_USE_RESERVE (never sleeps, may fail); a failure fails MOD_LOAD with ENOMEM after
 * freeing what was allocated, so a failed load leaves nothing behind.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>

static MALLOC_DEFINE(M_NOWAIT_RESERVE, "nowait_reserve", "nowait_reserve twin");

#define	NSAMPLES	64

static uint32_t *samples;
static uint64_t *state;

static int
nowait_reserve_modevent(module_t mod, int what, void *arg)
{
	int i;

	switch (what) {
	case MOD_LOAD:
		samples = malloc(NSAMPLES * sizeof(*samples), M_NOWAIT_RESERVE,
		    M_NOWAIT | M_USE_RESERVE);
		if (samples == NULL)
			return (ENOMEM);
		for (i = 0; i < NSAMPLES; i++)
			samples[i] = (uint32_t)i * 2654435761u;
		state = malloc(4 * sizeof(*state), M_NOWAIT_RESERVE,
		    M_NOWAIT | M_USE_RESERVE | M_ZERO);
		if (state == NULL) {
			free(samples, M_NOWAIT_RESERVE);
			samples = NULL;
			return (ENOMEM);
		}
		printf("nowait_reserve: loaded, %d samples, flags %#x\n", NSAMPLES,
		    M_NOWAIT | M_USE_RESERVE);
		return (0);
	case MOD_UNLOAD:
		/*
		 * module_register_init() also sends MOD_UNLOAD after a failed MOD_LOAD
		 * (kern_module.c), when nothing was allocated.
		 */
		if (samples == NULL || state == NULL)
			return (0);
		printf("nowait_reserve: unloaded (%d samples, state %ju)\n", NSAMPLES,
		    (uintmax_t)state[0]);
		free(state, M_NOWAIT_RESERVE);
		free(samples, M_NOWAIT_RESERVE);
		samples = NULL;
		state = NULL;
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t nowait_reserve_mod = { "nowait_reserve", nowait_reserve_modevent, NULL };
DECLARE_MODULE(nowait_reserve, nowait_reserve_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(nowait_reserve, 1);
