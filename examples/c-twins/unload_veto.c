/*
 * unload_veto: refuses MOD_QUIESCE and MOD_UNLOAD while in use, so even `kldunload -f`
 * (which ignores MOD_QUIESCE's refusal, kern_linker.c linker_file_unload) keeps it loaded.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

static int unload_veto_in_use = 1;

void unload_veto_release(void);
void
unload_veto_release(void)
{
	unload_veto_in_use = 0;
}

static int
unload_veto_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		printf("unload_veto: loaded\n");
		return (0);
	case MOD_QUIESCE:
		printf("unload_veto: quiesce refused\n");
		return (EBUSY);
	case MOD_UNLOAD:
		if (unload_veto_in_use) {
			printf("unload_veto: unload refused\n");
			return (EBUSY);
		}
		printf("unload_veto: unloaded\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t unload_veto_mod = { "unload_veto", unload_veto_modevent, NULL };
DECLARE_MODULE(unload_veto, unload_veto_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
