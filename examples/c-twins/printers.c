/*
 * printers: two kernel threads that only print (no lock, no sleep), started by the load. Under
 * seeded schedules printf(9) is a preemption point, so some seeds interleave their lines
 * (tools/kernel-sim/tests/printf_preemption.rs). The load joins them one by one: it lets
 * thread i exit and sleeps on it (kthread_exit's wakeup(td), sys/kern/kern_kthread.c), with
 * the mutex as interlock so that the thread cannot exit before the load sleeps.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/kthread.h>
#include <sys/proc.h>

static struct mtx printers_mtx;
static int printers_go;
static int printers_exit_ok[2];
static struct thread *printers_td[2];

static void
printers_thread(void *arg)
{
	int id = (int)(intptr_t)arg;
	int i;

	mtx_lock(&printers_mtx);
	while (!printers_go)
		mtx_sleep(&printers_go, &printers_mtx, 0, "prgo", 0);
	mtx_unlock(&printers_mtx);
	for (i = 0; i < 4; i++)
		printf("printers: thread %d line %d\n", id, i);
	mtx_lock(&printers_mtx);
	while (!printers_exit_ok[id])
		mtx_sleep(&printers_exit_ok[id], &printers_mtx, 0, "prexit", 0);
	mtx_unlock(&printers_mtx);
	kthread_exit();
}

static int
printers_modevent(module_t mod, int what, void *arg)
{
	int i;

	switch (what) {
	case MOD_LOAD:
		mtx_init(&printers_mtx, "printers", NULL, MTX_DEF);
		for (i = 0; i < 2; i++)
			if (kthread_add(printers_thread, (void *)(intptr_t)i, NULL,
			    &printers_td[i], 0, 0, "printers%d", i) != 0)
				printers_td[i] = NULL;
		mtx_lock(&printers_mtx);
		printers_go = 1;
		wakeup(&printers_go);
		for (i = 0; i < 2; i++) {
			if (printers_td[i] == NULL)
				continue;
			printers_exit_ok[i] = 1;
			wakeup(&printers_exit_ok[i]);
			mtx_sleep(printers_td[i], &printers_mtx, 0, "prjoin", 0);
		}
		mtx_unlock(&printers_mtx);
		return (0);
	case MOD_UNLOAD:
		mtx_destroy(&printers_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t printers_mod = { "printers", printers_modevent, NULL };
DECLARE_MODULE(printers, printers_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(printers, 1);
