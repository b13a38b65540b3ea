/*
 * cdev_fixture: a test device for the simulator's devfs, uio, ioctl, cdevpriv and priv
 * paths, built against the real FreeBSD headers with FreeBSD's own macros.
 *
 * /dev/cdevfix (root:wheel 0600): a 4 KiB buffer under a mutex; write stores at the
 * offset, read returns from the offset. ioctls: FIX_GETLEN (_IOR int), FIX_CLEAR (_IO,
 * priv_check(PRIV_DRIVER)), FIX_SETLEN (_IOW int: EINVAL above 4096), FIX_GETPRIV (_IOR
 * int: this file's open number from its cdevpriv), FIX_SETPRIV (_IO: devfs_set_cdevpriv
 * again, EBUSY), FIX_COPYOUT (_IOW pointer: copyout of 8 bytes to a user pointer).
 * /dev/cdevfix_pub (0666) shares the methods. FIX_GETCLOSES (_IOR int): d_close calls so
 * far; FIX_SLEEP (_IO): sleeps 1 s in d_ioctl (destroy_dev must wait for it).
 *
 * Variants for the simulator's tests: -DFIX_TRACKCLOSE (D_TRACKCLOSE), and bugs:
 * -DFIX_ENDLESS (reads never reach EOF, like /dev/zero), -DFIX_OLD_API (make_dev/make_dev_p instead of make_dev_s, reads through
 * uiomove_frombuf, FIX_GETUNIT returns dev2unit(), the console names devtoname()), and bugs:
 * -DFIX_BUG_IGNORE_PRIV (FIX_CLEAR ignores priv_check), -DFIX_BUG_DESTROY_IN_CLOSE
 * (destroy_dev from d_close), -DFIX_BUG_UIOMOVE_LOCKED (uiomove with the mutex held in
 * d_read), -DFIX_BUG_RETURN_LOCKED (FIX_GETLEN returns with the mutex held),
 * -DFIX_BUG_NO_DESTROY (MOD_UNLOAD forgets /dev/cdevfix_pub).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/ioccom.h>
#include <sys/priv.h>
#include <sys/proc.h>
#include <sys/ucred.h>

#define FIX_GETLEN	_IOR('F', 1, int)
#define FIX_CLEAR	_IO('F', 2)
#define FIX_SETLEN	_IOW('F', 3, int)
#define FIX_GETPRIV	_IOR('F', 4, int)
#define FIX_SETPRIV	_IO('F', 5)
#define FIX_COPYOUT	_IOW('F', 6, uint64_t)
#define FIX_GETCLOSES	_IOR('F', 7, int)
#define FIX_SLEEP	_IO('F', 8)
#define FIX_GETUNIT	_IOR('F', 9, int)
struct fix_who {
	int pid, uid, ruid, gid;
};
#define FIX_WHOAMI	_IOR('F', 10, struct fix_who)
#define FIX_PRIVCRED	_IO('F', 11)

static MALLOC_DEFINE(M_FIX, "cdevfix", "cdev fixture");
static struct mtx fix_mtx;
static char fix_buf[4096];
static int fix_len;
static int fix_opens;
static struct cdev *fix_dev, *fix_pub;
static int fix_closes;
static int fix_destroyed;

static int
fix_close(struct cdev *dev, int fflag, int devtype, struct thread *td)
{
	mtx_lock(&fix_mtx);
	fix_closes++;
	mtx_unlock(&fix_mtx);
#ifdef FIX_BUG_DESTROY_IN_CLOSE
	destroy_dev(dev);
#endif
	return (0);
}

static void
fix_dtor(void *data)
{
	free(data, M_FIX);
}

static int
fix_open(struct cdev *dev, int oflags, int devtype, struct thread *td)
{
	int *p = malloc(sizeof(int), M_FIX, M_WAITOK);
	int error;

	mtx_lock(&fix_mtx);
	*p = ++fix_opens;
	mtx_unlock(&fix_mtx);
	error = devfs_set_cdevpriv(p, fix_dtor);
	if (error != 0)
		free(p, M_FIX);
	return (error);
}

static int
fix_read(struct cdev *dev, struct uio *uio, int ioflag)
{
	char tmp[4096];
	int n, error;

#ifdef FIX_ENDLESS
	/* Like /dev/zero: never EOF. */
	memset(tmp, 0, sizeof(tmp));
	while (uio->uio_resid > 0) {
		error = uiomove(tmp, MIN(uio->uio_resid, (ssize_t)sizeof(tmp)), uio);
		if (error != 0)
			return (error);
	}
	return (0);
#endif
#ifdef FIX_OLD_API
	mtx_lock(&fix_mtx);
	n = fix_len;
	memcpy(tmp, fix_buf, n);
	mtx_unlock(&fix_mtx);
	return (uiomove_frombuf(tmp, n, uio));
#endif
	mtx_lock(&fix_mtx);
	if (uio->uio_offset < 0 || uio->uio_offset >= fix_len) {
		mtx_unlock(&fix_mtx);
		return (0);
	}
	n = MIN(uio->uio_resid, fix_len - uio->uio_offset);
	memcpy(tmp, fix_buf + uio->uio_offset, n);
#ifdef FIX_BUG_UIOMOVE_LOCKED
	error = uiomove(tmp, n, uio);
	mtx_unlock(&fix_mtx);
	return (error);
#endif
	mtx_unlock(&fix_mtx);
	error = uiomove(tmp, n, uio);
	return (error);
}

static int
fix_write(struct cdev *dev, struct uio *uio, int ioflag)
{
	char tmp[4096];
	int n, error;
	off_t off = uio->uio_offset;

	if (off < 0 || off >= (off_t)sizeof(fix_buf))
		return (uio->uio_resid == 0 ? 0 : ENOSPC);
	n = MIN(uio->uio_resid, (ssize_t)sizeof(fix_buf) - off);
	error = uiomove(tmp, n, uio);
	if (error != 0)
		return (error);
	mtx_lock(&fix_mtx);
	memcpy(fix_buf + off, tmp, n);
	if (off + n > fix_len)
		fix_len = off + n;
	mtx_unlock(&fix_mtx);
	return (0);
}

static int
fix_ioctl(struct cdev *dev, u_long cmd, caddr_t data, int fflag, struct thread *td)
{
	int error, *p;
	uint64_t v;

	switch (cmd) {
	case FIX_GETLEN:
		mtx_lock(&fix_mtx);
		*(int *)data = fix_len;
#ifndef FIX_BUG_RETURN_LOCKED
		mtx_unlock(&fix_mtx);
#endif
		return (0);
	case FIX_CLEAR:
		error = priv_check(td, PRIV_DRIVER);
#ifndef FIX_BUG_IGNORE_PRIV
		if (error != 0)
			return (error);
#endif
		mtx_lock(&fix_mtx);
		fix_len = 0;
		mtx_unlock(&fix_mtx);
		return (0);
	case FIX_SETLEN:
		if (*(int *)data < 0 || *(int *)data > (int)sizeof(fix_buf))
			return (EINVAL);
		mtx_lock(&fix_mtx);
		fix_len = *(int *)data;
		mtx_unlock(&fix_mtx);
		return (0);
	case FIX_GETPRIV:
		error = devfs_get_cdevpriv((void **)&p);
		if (error != 0)
			return (error);
		*(int *)data = *p;
		return (0);
	case FIX_SETPRIV:
		return (devfs_set_cdevpriv(NULL, NULL));
	case FIX_COPYOUT:
		v = 0x1122334455667788ULL;
		return (copyout(&v, (void *)(uintptr_t)*(uint64_t *)data, sizeof(v)));
	case FIX_GETCLOSES:
		mtx_lock(&fix_mtx);
		*(int *)data = fix_closes;
		mtx_unlock(&fix_mtx);
		return (0);
	case FIX_WHOAMI:
		((struct fix_who *)data)->pid = td->td_proc->p_pid;
		((struct fix_who *)data)->uid = td->td_ucred->cr_uid;
		((struct fix_who *)data)->ruid = td->td_ucred->cr_ruid;
		((struct fix_who *)data)->gid = td->td_ucred->cr_rgid;
		return (0);
	case FIX_PRIVCRED:
		return (priv_check_cred(td->td_ucred, PRIV_DRIVER));
	case FIX_GETUNIT:
		*(int *)data = dev2unit(dev);
		return (0);
	case FIX_SLEEP:
		tsleep(&fix_closes, 0, "fixslp", hz);
		if (fix_destroyed)
			printf("cdevfix: d_ioctl ran after destroy_dev returned\n");
		return (0);
	default:
		return (ENOTTY);
	}
}

static struct cdevsw fix_cdevsw = {
	.d_version = D_VERSION,
	.d_name = "cdevfix",
#ifdef FIX_TRACKCLOSE
	.d_flags = D_TRACKCLOSE,
#endif
	.d_open = fix_open,
	.d_close = fix_close,
	.d_read = fix_read,
	.d_write = fix_write,
	.d_ioctl = fix_ioctl,
};

static int
fix_make(struct cdev **dp, int mode, const char *name)
{
	struct make_dev_args args;

#ifdef FIX_OLD_API
	if (mode == 0600) {
		*dp = make_dev(&fix_cdevsw, 7, UID_ROOT, GID_WHEEL, mode, "%s", name);
		printf("cdevfix: made /dev/%s unit %d\n", devtoname(*dp), dev2unit(*dp));
		return (0);
	}
	return (make_dev_p(MAKEDEV_CHECKNAME | MAKEDEV_WAITOK, dp, &fix_cdevsw, NULL,
	    UID_ROOT, GID_WHEEL, mode, "%s", name));
#endif

	make_dev_args_init(&args);
	args.mda_devsw = &fix_cdevsw;
	args.mda_uid = UID_ROOT;
	args.mda_gid = GID_WHEEL;
	args.mda_mode = mode;
	return (make_dev_s(&args, dp, "%s", name));
}

static int
fix_modevent(module_t mod, int what, void *arg)
{
	int error;

	switch (what) {
	case MOD_LOAD:
		mtx_init(&fix_mtx, "cdevfix", NULL, MTX_DEF);
		error = fix_make(&fix_dev, 0600, "cdevfix");
		if (error == 0)
			error = fix_make(&fix_pub, 0666, "cdevfix_pub");
		if (error != 0) {
			if (fix_dev != NULL)
				destroy_dev(fix_dev);
			mtx_destroy(&fix_mtx);
		}
		return (error);
	case MOD_UNLOAD:
#ifndef FIX_BUG_NO_DESTROY
		destroy_dev(fix_pub);
#endif
		destroy_dev(fix_dev);
		fix_destroyed = 1;
		mtx_destroy(&fix_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t fix_mod = { "cdevfix", fix_modevent, NULL };
DECLARE_MODULE(cdevfix, fix_mod, SI_SUB_DRIVERS, SI_ORDER_ANY);
MODULE_VERSION(cdevfix, 1);
