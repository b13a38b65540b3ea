/*
 * pollfix: the simulator's poll(2)/selinfo semantics against a C module built from the real
 * headers (tools/kernel-sim/tests/poll.rs).
 *
 * /dev/pollfix (0666): readable (POLLIN | POLLRDNORM) once something was written, until
 * PFIX_CLEAR; always writable. A reader that has to wait is recorded with selrecord() on
 * sc->rsel, a struct selinfo inside a malloc'ed softc; a write sets the flag and calls
 * selwakeup() under the softc mutex that d_poll checks the flag with. PFIX_WAITING
 * (_IOR int) answers SEL_WAITING(&sc->rsel), PFIX_POLLS (_IOR int) the d_poll calls so far. MOD_UNLOAD: destroy_dev, then seldrain, then
 * free of the softc.
 * /dev/pollfix_nopoll (0666): no d_poll: the kernel's no_poll answers.
 *
 * -DFIX_BUG_NO_SELDRAIN frees the softc without seldrain (a poller still sleeping would
 * write into the freed memory); -DFIX_BUG_THREE_RECORDS calls selrecord three times in one
 * d_poll (two selfds are preallocated per descriptor: "selrecord: No free selfd on selq");
 * -DFIX_BUG_WAKEUP_UNDER_SPIN calls selwakeup() with a spin mutex held (it locks a default
 * mutex: WITNESS refuses).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/malloc.h>
#include <sys/ioccom.h>
#include <sys/poll.h>
#include <sys/selinfo.h>

#define	PFIX_CLEAR	_IO('P', 1)
#define	PFIX_WAITING	_IOR('P', 2, int)
#define	PFIX_POLLS	_IOR('P', 3, int)

MALLOC_DEFINE(M_PFIX, "pollfix", "pollfix softc");

struct pfix_softc {
	struct mtx	mtx;
	struct mtx	spin;
	int		ready;
	struct selinfo	rsel;
	struct selinfo	extra;
};

static struct pfix_softc *sc;
static int pfix_polls;		/* d_poll calls so far */
static struct cdev *pfix_dev, *pfix_nopoll_dev;

static d_read_t pfix_read;
static d_write_t pfix_write;
static d_ioctl_t pfix_ioctl;
static d_poll_t pfix_poll;

static struct cdevsw pfix_cdevsw = {
	.d_version = D_VERSION,
	.d_name = "pollfix",
	.d_read = pfix_read,
	.d_write = pfix_write,
	.d_ioctl = pfix_ioctl,
	.d_poll = pfix_poll,
};

static struct cdevsw pfix_nopoll_cdevsw = {
	.d_version = D_VERSION,
	.d_name = "pollfix_nopoll",
	.d_read = pfix_read,
	.d_write = pfix_write,
};

static int
pfix_read(struct cdev *dev, struct uio *uio, int ioflag)
{
	return (0);
}

static int
pfix_write(struct cdev *dev, struct uio *uio, int ioflag)
{
	mtx_lock(&sc->mtx);
	sc->ready = 1;
#ifdef FIX_BUG_WAKEUP_UNDER_SPIN
	mtx_lock_spin(&sc->spin);
	selwakeup(&sc->rsel);
	mtx_unlock_spin(&sc->spin);
#else
	selwakeup(&sc->rsel);
#endif
	mtx_unlock(&sc->mtx);
	uio->uio_resid = 0;
	return (0);
}

static int
pfix_ioctl(struct cdev *dev, u_long cmd, caddr_t data, int fflag, struct thread *td)
{
	switch (cmd) {
	case PFIX_CLEAR:
		mtx_lock(&sc->mtx);
		sc->ready = 0;
		mtx_unlock(&sc->mtx);
		return (0);
	case PFIX_POLLS:
		*(int *)data = pfix_polls;
		return (0);
	case PFIX_WAITING:
		mtx_lock(&sc->mtx);
		*(int *)data = SEL_WAITING(&sc->rsel) ? 1 : 0;
		mtx_unlock(&sc->mtx);
		return (0);
	default:
		return (ENOTTY);
	}
}

static int
pfix_poll(struct cdev *dev, int events, struct thread *td)
{
	int revents = 0;

	mtx_lock(&sc->mtx);
	pfix_polls++;
	if (events & (POLLIN | POLLRDNORM)) {
		if (sc->ready)
			revents |= events & (POLLIN | POLLRDNORM);
		else {
			selrecord(td, &sc->rsel);
#ifdef FIX_BUG_THREE_RECORDS
			selrecord(td, &sc->extra);
			selrecord(td, &sc->rsel);
#endif
		}
	}
	if (events & (POLLOUT | POLLWRNORM))
		revents |= events & (POLLOUT | POLLWRNORM);
	mtx_unlock(&sc->mtx);
	return (revents);
}

static int
pfix_modevent(module_t mod, int what, void *arg)
{
	struct make_dev_args args;
	int error;

	switch (what) {
	case MOD_LOAD:
		sc = malloc(sizeof(*sc), M_PFIX, M_WAITOK | M_ZERO);
		mtx_init(&sc->mtx, "pollfix", NULL, MTX_DEF);
		mtx_init(&sc->spin, "pollfix spin", NULL, MTX_SPIN);
		make_dev_args_init(&args);
		args.mda_flags = MAKEDEV_CHECKNAME | MAKEDEV_WAITOK;
		args.mda_devsw = &pfix_cdevsw;
		args.mda_uid = UID_ROOT;
		args.mda_gid = GID_WHEEL;
		args.mda_mode = 0666;
		error = make_dev_s(&args, &pfix_dev, "pollfix");
		if (error != 0)
			return (error);
		args.mda_devsw = &pfix_nopoll_cdevsw;
		error = make_dev_s(&args, &pfix_nopoll_dev, "pollfix_nopoll");
		if (error != 0) {
			destroy_dev(pfix_dev);
			return (error);
		}
		return (0);
	case MOD_UNLOAD:
		destroy_dev(pfix_nopoll_dev);
		destroy_dev(pfix_dev);
#ifndef FIX_BUG_NO_SELDRAIN
		seldrain(&sc->rsel);
		seldrain(&sc->extra);
#endif
		mtx_destroy(&sc->spin);
		mtx_destroy(&sc->mtx);
		free(sc, M_PFIX);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t pfix_mod = { "pollfix", pfix_modevent, NULL };
DECLARE_MODULE(pollfix, pfix_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(pollfix, 1);
