/*
 * echo: C twin of examples/echo. /dev/echo (root:wheel 0600) keeps what is written to it
 * in a buffer under an sx lock (uiomove may fault and sleep, so not a mutex): a write stores
 * at the file offset and ends the contents there, a read returns the contents from the
 * offset. ioctls: ECHO_GETLEN, ECHO_CLEAR (root only: priv_check(td, PRIV_DRIVER)),
 * ECHO_RESIZE (1..65536 bytes, EINVAL otherwise, ENOMEM when malloc fails); the same group
 * and number with another size is EINVAL, other commands ENOTTY. poll: readable
 * (POLLIN | POLLRDNORM) while the buffer holds data, always writable (POLLOUT |
 * POLLWRNORM); a reader waiting in poll is recorded on echo_rsel (selrecord) and woken by
 * the next write (selwakeup), both under the sx lock so no wakeup is lost; MOD_UNLOAD
 * seldrains it after destroy_dev, before the module's memory goes. MOD_QUIESCE answers EBUSY
 * while the device is open; the unload destroys the device (destroy_dev waits for running
 * calls and runs the cdevpriv destructors).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/lock.h>
#include <sys/sx.h>
#include <sys/malloc.h>
#include <sys/priv.h>
#include <sys/ioccom.h>
#include <sys/poll.h>
#include <sys/selinfo.h>
#include <machine/atomic.h>

#define	ECHO_GETLEN	_IOR('E', 1, uint32_t)
#define	ECHO_CLEAR	_IO('E', 2)
#define	ECHO_RESIZE	_IOW('E', 3, uint32_t)

#define	ECHO_INITIAL_SIZE	4096
#define	ECHO_MAX_SIZE		65536

MALLOC_DEFINE(M_ECHO, "echo", "echo device buffer");

static struct sx echo_sx;
static char *echo_buf;		/* the buffer, echo_size bytes */
static size_t echo_size;
static size_t echo_len;		/* bytes stored */
static u_int echo_open;		/* open files not yet released (atomic) */
static struct cdev *echo_dev;
static struct selinfo echo_rsel;	/* readers waiting in poll */

static d_open_t echo_open_m;
static d_read_t echo_read;
static d_write_t echo_write;
static d_ioctl_t echo_ioctl;
static d_poll_t echo_poll;

static struct cdevsw echo_cdevsw = {
	.d_version = D_VERSION,
	.d_name = "echo",
	.d_open = echo_open_m,
	.d_read = echo_read,
	.d_write = echo_write,
	.d_ioctl = echo_ioctl,
	.d_poll = echo_poll,
};

static void
echo_dtor(void *data)
{
	atomic_subtract_int(&echo_open, 1);
}

static int
echo_open_m(struct cdev *dev, int oflags, int devtype, struct thread *td)
{
	int error;

	atomic_add_int(&echo_open, 1);
	error = devfs_set_cdevpriv(&echo_open, echo_dtor);
	if (error != 0)
		atomic_subtract_int(&echo_open, 1);
	return (error);
}

static int
echo_read(struct cdev *dev, struct uio *uio, int ioflag)
{
	off_t off = uio->uio_offset;
	int error = 0;

	if (off < 0)
		return (EINVAL);
	sx_slock(&echo_sx);
	if ((size_t)off < echo_len)
		error = uiomove(echo_buf + off, echo_len - off, uio);
	sx_sunlock(&echo_sx);
	return (error);
}

static int
echo_write(struct cdev *dev, struct uio *uio, int ioflag)
{
	off_t off = uio->uio_offset;
	ssize_t before;
	int error;

	if (off < 0)
		return (EINVAL);
	if (uio->uio_resid == 0)
		return (0);
	sx_xlock(&echo_sx);
	if ((size_t)off >= echo_size) {
		sx_xunlock(&echo_sx);
		return (ENOSPC);
	}
	if ((size_t)off > echo_len)
		memset(echo_buf + echo_len, 0, off - echo_len);
	before = uio->uio_resid;
	error = uiomove(echo_buf + off, echo_size - off, uio);
	/* A write ends the contents where it stopped (also after a fault part way). */
	echo_len = off + (before - uio->uio_resid);
	if (echo_len > 0)
		selwakeup(&echo_rsel);
	sx_xunlock(&echo_sx);
	return (error);
}

static int
echo_poll(struct cdev *dev, int events, struct thread *td)
{
	int revents = 0;

	if (events & (POLLIN | POLLRDNORM)) {
		sx_slock(&echo_sx);
		if (echo_len > 0)
			revents |= events & (POLLIN | POLLRDNORM);
		else
			selrecord(td, &echo_rsel);
		sx_sunlock(&echo_sx);
	}
	if (events & (POLLOUT | POLLWRNORM))
		revents |= events & (POLLOUT | POLLWRNORM);
	return (revents);
}

static int
echo_ioctl(struct cdev *dev, u_long cmd, caddr_t data, int fflag, struct thread *td)
{
	uint32_t size;
	size_t keep;
	char *nb;
	int error;

	switch (cmd) {
	case ECHO_GETLEN:
		sx_slock(&echo_sx);
		*(uint32_t *)data = echo_len;
		sx_sunlock(&echo_sx);
		return (0);
	case ECHO_CLEAR:
		error = priv_check(td, PRIV_DRIVER);
		if (error != 0)
			return (error);
		sx_xlock(&echo_sx);
		echo_len = 0;
		sx_xunlock(&echo_sx);
		return (0);
	case ECHO_RESIZE:
		size = *(uint32_t *)data;
		if (size == 0 || size > ECHO_MAX_SIZE)
			return (EINVAL);
		/* Allocate before locking: no lock is held while malloc(9) runs. */
		nb = malloc(size, M_ECHO, M_NOWAIT | M_ZERO);
		if (nb == NULL)
			return (ENOMEM);
		sx_xlock(&echo_sx);
		keep = MIN(echo_len, size);
		memcpy(nb, echo_buf, keep);
		free(echo_buf, M_ECHO);
		echo_buf = nb;
		echo_size = size;
		echo_len = keep;
		sx_xunlock(&echo_sx);
		return (0);
	default:
		/* Our group and number with another size or direction. */
		if ((cmd & 0xffff) == (ECHO_GETLEN & 0xffff) ||
		    (cmd & 0xffff) == (ECHO_CLEAR & 0xffff) ||
		    (cmd & 0xffff) == (ECHO_RESIZE & 0xffff))
			return (EINVAL);
		return (ENOTTY);
	}
}

static int
echo_modevent(module_t mod, int what, void *arg)
{
	struct make_dev_args args;
	int error;

	switch (what) {
	case MOD_LOAD:
		echo_buf = malloc(ECHO_INITIAL_SIZE, M_ECHO, M_WAITOK | M_ZERO);
		echo_size = ECHO_INITIAL_SIZE;
		echo_len = 0;
		sx_init(&echo_sx, "echo");
		make_dev_args_init(&args);
		args.mda_flags = MAKEDEV_CHECKNAME | MAKEDEV_WAITOK;
		args.mda_devsw = &echo_cdevsw;
		args.mda_uid = UID_ROOT;
		args.mda_gid = GID_WHEEL;
		args.mda_mode = 0600;
		error = make_dev_s(&args, &echo_dev, "%s", "echo");
		if (error != 0) {
			sx_destroy(&echo_sx);
			free(echo_buf, M_ECHO);
			return (error);
		}
		printf("echo: /dev/echo created (%d bytes)\n", ECHO_INITIAL_SIZE);
		return (0);
	case MOD_QUIESCE:
		return (atomic_load_int(&echo_open) > 0 ? EBUSY : 0);
	case MOD_UNLOAD:
		printf("echo: destroying /dev/echo\n");
		destroy_dev(echo_dev);
		/* No d_poll runs any more: wake the threads still waiting, then free. */
		seldrain(&echo_rsel);
		sx_destroy(&echo_sx);
		free(echo_buf, M_ECHO);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t echo_mod = { "echo", echo_modevent, NULL };
DECLARE_MODULE(echo, echo_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(echo, 1);
