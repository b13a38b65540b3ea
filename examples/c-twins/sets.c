/*
 * sets: linker-set bounds as link_elf_obj.c resolves them. Its own set (set_sets_demo)
 * comes from the module's section; __start_set_pcpu (sys/sys/pcpu.h, DPCPU_START) from
 * the kernel's symbol table, since the module has no set_pcpu section. A weak reference
 * to a set nobody has resolves to NULL.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/linker_set.h>
#include <sys/pcpu.h>

static int sets_a = 1, sets_b = 2;
DATA_SET(sets_demo, sets_a);
DATA_SET(sets_demo, sets_b);
SET_DECLARE(sets_demo, int);

uintptr_t sets_pcpu_start(void);
uintptr_t
sets_pcpu_start(void)
{
	return (DPCPU_START);
}

/* A set nobody has, declared like the headers do (weak bounds): resolved to NULL by
 * elf_obj_lookup ("STB_WEAK ... *res = 0"), so it is empty. */
SET_DECLARE(sets_nobody, int);

long sets_nobody_count(void);
long
sets_nobody_count(void)
{
	return (SET_COUNT(sets_nobody));
}

int sets_demo_sum(void);
int
sets_demo_sum(void)
{
	int **p, sum = 0;

	SET_FOREACH(p, sets_demo)
		sum += **p;
	return (sum);
}

static int
sets_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t sets_mod = { "sets", sets_modevent, NULL };
DECLARE_MODULE(sets, sets_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
