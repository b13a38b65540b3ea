/*
 * badflags: MOD_LOAD calls malloc(9) with neither M_WAITOK nor M_NOWAIT, a bug an
 * INVARIANTS kernel reports with "Bad malloc flags: 0" and a backtrace (malloc_dbg() in
 * sys/kern/kern_malloc.c) before carrying on as M_WAITOK. `cargo kmod run` must fail on it.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>

static MALLOC_DEFINE(M_BADFLAGS, "badflags", "bad malloc flags test");

static int
badflags_modevent(module_t mod __unused, int type, void *data __unused)
{
	void *p;

	switch (type) {
	case MOD_LOAD:
		/* BUG: no M_WAITOK/M_NOWAIT (malloc.h drops a constant-size M_ZERO) */
		p = malloc(32, M_BADFLAGS, M_ZERO);
		free(p, M_BADFLAGS);
		return (0);
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t badflags_mod = { "badflags", badflags_modevent, NULL };
DECLARE_MODULE(badflags, badflags_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(badflags, 1);
