/*
 * mallocs: thin exported wrappers over malloc(9), malloc_domainset_aligned(9), realloc(9)
 * and free(9) with their own malloc type, so the simulator's tests can pass any size,
 * alignment and flags and see the calls come from module code (symbol + offset).
 * KEEP() after each call stops gcc from turning it into a tail call, so the kernel
 * function's return address is in the wrapper.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/domainset.h>

#define	KEEP(p)	__asm__ __volatile__("" : : "r"(p) : "memory")

static MALLOC_DEFINE(M_MALLOCS, "mallocs", "malloc stub tests");

void *mallocs_malloc(size_t size, int flags);
void *
mallocs_malloc(size_t size, int flags)
{
	void *p = malloc(size, M_MALLOCS, flags);

	KEEP(p);
	return (p);
}

void *mallocs_aligned(size_t size, size_t align, int flags);
void *
mallocs_aligned(size_t size, size_t align, int flags)
{
	void *p = malloc_domainset_aligned(size, align, M_MALLOCS,
	    DOMAINSET_RR(), flags);

	KEEP(p);
	return (p);
}

void *mallocs_realloc(void *p, size_t size, int flags);
void *
mallocs_realloc(void *p, size_t size, int flags)
{
	void *q = realloc(p, size, M_MALLOCS, flags);

	KEEP(q);
	return (q);
}

void mallocs_free(void *p);
void
mallocs_free(void *p)
{
	free(p, M_MALLOCS);
	KEEP(p);
}

static int
mallocs_modevent(module_t mod __unused, int type, void *data __unused)
{
	switch (type) {
	case MOD_LOAD:
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t mallocs_mod = { "mallocs", mallocs_modevent, NULL };
DECLARE_MODULE(mallocs, mallocs_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(mallocs, 1);
