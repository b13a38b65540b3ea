/*
 * unload_race: the use-after-unload race of a module whose threads report that they are done
 * and only then leave its code (the pre-fix examples/c-twins/workers.c, kept as a fixture).
 * Each thread does `unload_race_running--; wakeup(&unload_race_running);
 * mtx_unlock(&unload_race_mtx); kthread_exit();`: once MOD_UNLOAD has seen the count at 0 it
 * returns and kldunload frees the file while a thread may still have to return from
 * mtx_unlock into this file's text and call kthread_exit from it. The simulator must report
 * it under some seeded schedules (tests/unload_race.rs).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/condvar.h>
#include <sys/kthread.h>
#include <sys/proc.h>

#define	UNLOAD_RACE_THREADS	2
#define	UNLOAD_RACE_ITEMS	10

static struct mtx unload_race_mtx;
static struct cv unload_race_cv;
static int unload_race_pending;	/* work items handed out, not yet taken */
static long unload_race_total;	/* work items done */
static int unload_race_stop;	/* unload asked the threads to stop */
static int unload_race_running;	/* threads that have not left their loop */

static void
unload_race_thread(void *arg)
{
	mtx_lock(&unload_race_mtx);
	for (;;) {
		while (unload_race_pending == 0 && !unload_race_stop)
			cv_wait(&unload_race_cv, &unload_race_mtx);
		if (unload_race_pending == 0)
			break;
		unload_race_pending--;
		unload_race_total++;
	}
	unload_race_running--;
	wakeup(&unload_race_running);
	mtx_unlock(&unload_race_mtx);
	kthread_exit();
}

static int
unload_race_modevent(module_t mod, int what, void *arg)
{
	int i, error;

	switch (what) {
	case MOD_LOAD:
		mtx_init(&unload_race_mtx, "unload_race", NULL, MTX_DEF);
		cv_init(&unload_race_cv, "unload_race");
		for (i = 0; i < UNLOAD_RACE_THREADS; i++) {
			error = kthread_add(unload_race_thread, NULL, NULL, NULL, 0, 0,
			    "unload_race%d", i);
			if (error != 0) {
				/* The threads already started are stopped by the unload path. */
				printf("unload_race: kthread_add failed: %d\n", error);
				break;
			}
			mtx_lock(&unload_race_mtx);
			unload_race_running++;
			mtx_unlock(&unload_race_mtx);
		}
		mtx_lock(&unload_race_mtx);
		unload_race_pending += UNLOAD_RACE_ITEMS;
		cv_broadcast(&unload_race_cv);
		mtx_unlock(&unload_race_mtx);
		printf("unload_race: started %d threads, handed out %d work items\n",
		    UNLOAD_RACE_THREADS, UNLOAD_RACE_ITEMS);
		return (0);
	case MOD_UNLOAD:
		mtx_lock(&unload_race_mtx);
		unload_race_stop = 1;
		cv_broadcast(&unload_race_cv);
		while (unload_race_running > 0)
			mtx_sleep(&unload_race_running, &unload_race_mtx, 0, "wkjoin", 0);
		mtx_unlock(&unload_race_mtx);
		printf("unload_race: stopped %d threads, total %ld\n",
		    UNLOAD_RACE_THREADS, unload_race_total);
		cv_destroy(&unload_race_cv);
		mtx_destroy(&unload_race_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t unload_race_mod = { "unload_race", unload_race_modevent, NULL };
DECLARE_MODULE(unload_race, unload_race_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(unload_race, 1);
