/*
 * critical: malloc(9)/free(9)/realloc(9) inside a spin-mutex section or a critical section,
 * which an INVARIANTS kernel refuses (sys/kern/kern_malloc.c: malloc_dbg(), free_dbg() and
 * realloc() KASSERT(curthread->td_critnest == 0 || SCHEDULER_STOPPED(), ...)), and
 * critical_enter()/critical_exit() from a module (sys/sys/systm.h: critical_enter_KBI()).
 * One function per case; tools/kernel-sim/tests/critical.rs calls them.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>

static MALLOC_DEFINE(M_CRITFX, "critfx", "critical-section fixture");
static struct mtx critfx_spin;

int malloc_nowait_with_spin(void);
int
malloc_nowait_with_spin(void)
{
	void *p;

	mtx_lock_spin(&critfx_spin);
	p = malloc(32, M_CRITFX, M_NOWAIT);
	mtx_unlock_spin(&critfx_spin);
	free(p, M_CRITFX);
	return (0);
}

int malloc_waitok_in_critical(void);
int
malloc_waitok_in_critical(void)
{
	void *p;

	critical_enter();
	p = malloc(32, M_CRITFX, M_WAITOK);
	critical_exit();
	free(p, M_CRITFX);
	return (0);
}

int free_in_critical(void);
int
free_in_critical(void)
{
	void *p;

	p = malloc(32, M_CRITFX, M_WAITOK);
	critical_enter();
	free(p, M_CRITFX);
	critical_exit();
	return (0);
}

int free_null_with_spin(void);
int
free_null_with_spin(void)
{
	mtx_lock_spin(&critfx_spin);
	free(NULL, M_CRITFX);
	mtx_unlock_spin(&critfx_spin);
	return (0);
}

int realloc_with_spin(void);
int
realloc_with_spin(void)
{
	void *p;

	p = malloc(32, M_CRITFX, M_WAITOK);
	mtx_lock_spin(&critfx_spin);
	p = realloc(p, 64, M_CRITFX, M_NOWAIT);
	mtx_unlock_spin(&critfx_spin);
	free(p, M_CRITFX);
	return (0);
}

/* Allowed: allocate and free outside, only use the memory inside. */
int malloc_outside_critical(void);
int
malloc_outside_critical(void)
{
	char *p;

	p = malloc(32, M_CRITFX, M_WAITOK | M_ZERO);
	critical_enter();
	critical_enter();
	p[0] = 1;
	critical_exit();
	critical_exit();
	mtx_lock_spin(&critfx_spin);
	p[1] = 2;
	mtx_unlock_spin(&critfx_spin);
	free(p, M_CRITFX);
	return (0);
}

int pause_in_critical(void);
int
pause_in_critical(void)
{
	critical_enter();
	pause("critfx", 1);
	critical_exit();
	return (0);
}

int return_in_critical(void);
int
return_in_critical(void)
{
	critical_enter();
	return (0);
}

int critical_exit_unbalanced(void);
int
critical_exit_unbalanced(void)
{
	critical_exit();
	return (0);
}

static int
critfx_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		mtx_init(&critfx_spin, "critfx spin", NULL, MTX_SPIN);
		return (0);
	case MOD_UNLOAD:
		mtx_destroy(&critfx_spin);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t critfx_mod = { "critfx", critfx_modevent, NULL };
DECLARE_MODULE(critfx, critfx_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(critfx, 1);
