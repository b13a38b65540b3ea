/*
 * kld_cdev: a character device in the style of FreeBSD's share/examples/kld/cdev (own
 * code): /dev/kld_cdev echoes what is written to it.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/malloc.h>

#define	KLD_CDEV_BUF	128

static char kld_cdev_buf[KLD_CDEV_BUF + 1];
static size_t kld_cdev_len;
static struct cdev *kld_cdev_dev;

static int
kld_cdev_write(struct cdev *dev, struct uio *uio, int ioflag)
{
	size_t n;
	int error;

	n = MIN(uio->uio_resid, KLD_CDEV_BUF);
	error = uiomove(kld_cdev_buf, n, uio);
	if (error == 0) {
		kld_cdev_len = n;
		kld_cdev_buf[n] = '\0';
	}
	return (error);
}

static int
kld_cdev_read(struct cdev *dev, struct uio *uio, int ioflag)
{
	size_t off = uio->uio_offset;

	if (off >= kld_cdev_len)
		return (0);
	return (uiomove(kld_cdev_buf + off, MIN(uio->uio_resid, kld_cdev_len - off), uio));
}

static struct cdevsw kld_cdev_cdevsw = {
	.d_version = D_VERSION,
	.d_read = kld_cdev_read,
	.d_write = kld_cdev_write,
	.d_name = "kld_cdev",
};

static int
kld_cdev_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		kld_cdev_dev = make_dev(&kld_cdev_cdevsw, 0, UID_ROOT, GID_WHEEL,
		    0600, "kld_cdev");
		printf("kld_cdev: /dev/kld_cdev created\n");
		return (0);
	case MOD_UNLOAD:
		destroy_dev(kld_cdev_dev);
		printf("kld_cdev: /dev/kld_cdev destroyed\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

DEV_MODULE(kld_cdev, kld_cdev_modevent, NULL);
