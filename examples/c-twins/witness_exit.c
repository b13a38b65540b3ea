/* witness_exit: a kernel thread that exits holding a mutex (WITNESS: "exiting with the
 * following locks held"); the load itself succeeds. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/kthread.h>
#include <sys/proc.h>

static struct mtx wx_mtx;

static void
wx_thread(void *arg)
{
	mtx_lock(&wx_mtx);
	kthread_exit();
}

static int
wx_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		mtx_init(&wx_mtx, "wx", NULL, MTX_DEF);
		return (kthread_add(wx_thread, NULL, NULL, NULL, 0, 0, "wx"));
	case MOD_UNLOAD:
		mtx_destroy(&wx_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t wx_mod = { "witness_exit", wx_modevent, NULL };
DECLARE_MODULE(witness_exit, wx_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
