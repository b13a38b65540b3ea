/*
 * badset: walks a linker set that neither the module (no set_nosuch section) nor the
 * kernel has, through strong references (as a Rust `extern` static would make; the
 * headers' SET_DECLARE declares the bounds __weak_symbol, which resolve to NULL instead,
 * see sets.c). link_elf_obj.c leaves __start_set_nosuch undefined after
 * link_elf_fix_link_set and relocate_file fails: "link_elf_obj: symbol __start_set_nosuch
 * undefined".
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

extern int *__start_set_nosuch[];
extern int *__stop_set_nosuch[];

long badset_count(void);
long
badset_count(void)
{
	return (__stop_set_nosuch - __start_set_nosuch);
}

static int
badset_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t badset_mod = { "badset", badset_modevent, NULL };
DECLARE_MODULE(badset, badset_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
