/*
 * emptycons: depends on empty_sections and takes the address of a symbol it defines in a
 * zero-size section. kern_linker.c linker_file_lookup_symbol_internal() answers with the
 * symbol's st_value, unrelocated (empty_end: 16); a value of 0 counts as not found (a common
 * symbol to look up elsewhere), so with -DEMPTYCONS_ZERO (empty_obj, st_value 0) the load
 * fails with the symbol undefined. tools/kernel-sim/tests/empty_sections.rs.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

#ifdef EMPTYCONS_ZERO
extern char empty_obj[];
char *emptycons_ptr = empty_obj;
#else
extern char empty_end[];
char *emptycons_ptr = empty_end;
#endif

static int
emptycons_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t emptycons_mod = { "emptycons", emptycons_modevent, NULL };
DECLARE_MODULE(emptycons, emptycons_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_DEPEND(emptycons, empty_sections, 1, 1, 1);
MODULE_VERSION(emptycons, 1);
