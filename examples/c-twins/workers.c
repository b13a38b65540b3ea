/*
 * workers: C twin of examples/workers. On load, two kernel threads take work items
 * handed out by the load and add them to a shared counter under a mutex, each waiting on a
 * condition variable for work. On unload they are told to stop, woken and joined one by
 * one, and the total is printed.
 *
 * The join sleeps on the thread's own struct thread, which kthread_exit() wakes up
 * (sys/kern/kern_kthread.c: "A module may be waiting for us to exit." wakeup(td)), so the
 * unload returns only once the thread is inside kthread_exit, out of this module's text for
 * good. Each thread's stop flag is set under the mutex and the unloader sleeps on the thread
 * with that mutex as interlock (mtx_sleep), so the thread cannot see its flag, and exit,
 * before the unloader is asleep: the wakeup is never lost. (Counting the threads down and
 * sleeping until the count is 0 is not enough: a thread that has decremented the count
 * still has to return from mtx_unlock into this module and call kthread_exit from it, while
 * the unload may already have returned and the file been freed.)
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

#define	WORKERS_THREADS	2
#define	WORKERS_ITEMS	10

static struct mtx workers_mtx;
static struct cv workers_cv;
static int workers_pending;	/* work items handed out, not yet taken */
static long workers_total;	/* work items done */
static int workers_stop[WORKERS_THREADS];	/* unload asked thread i to stop */
static struct thread *workers_td[WORKERS_THREADS];	/* NULL: not started */

static void
workers_thread(void *arg)
{
	int *stop = arg;

	mtx_lock(&workers_mtx);
	for (;;) {
		while (workers_pending == 0 && !*stop)
			cv_wait(&workers_cv, &workers_mtx);
		if (workers_pending == 0)
			break;
		workers_pending--;
		workers_total++;
	}
	mtx_unlock(&workers_mtx);
	kthread_exit();
}

static int
workers_modevent(module_t mod, int what, void *arg)
{
	int i, error;

	switch (what) {
	case MOD_LOAD:
		mtx_init(&workers_mtx, "workers", NULL, MTX_DEF);
		cv_init(&workers_cv, "workers");
		for (i = 0; i < WORKERS_THREADS; i++) {
			error = kthread_add(workers_thread, &workers_stop[i], NULL,
			    &workers_td[i], 0, 0, "workers%d", i);
			if (error != 0) {
				/* The threads already started are stopped by the unload path. */
				printf("workers: kthread_add failed: %d\n", error);
				break;
			}
		}
		mtx_lock(&workers_mtx);
		workers_pending += WORKERS_ITEMS;
		cv_broadcast(&workers_cv);
		mtx_unlock(&workers_mtx);
		printf("workers: started %d threads, handed out %d work items\n",
		    WORKERS_THREADS, WORKERS_ITEMS);
		return (0);
	case MOD_UNLOAD:
		mtx_lock(&workers_mtx);
		for (i = 0; i < WORKERS_THREADS; i++) {
			if (workers_td[i] == NULL)
				continue;
			workers_stop[i] = 1;
			cv_broadcast(&workers_cv);
			/* Woken only by kthread_exit()'s wakeup(td). */
			mtx_sleep(workers_td[i], &workers_mtx, 0, "wkjoin", 0);
			workers_td[i] = NULL;
		}
		mtx_unlock(&workers_mtx);
		printf("workers: stopped %d threads, total %ld\n",
		    WORKERS_THREADS, workers_total);
		cv_destroy(&workers_cv);
		mtx_destroy(&workers_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t workers_mod = { "workers", workers_modevent, NULL };
DECLARE_MODULE(workers, workers_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(workers, 1);
