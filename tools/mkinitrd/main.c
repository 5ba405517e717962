/* ocivm-mkinitrd --kernel-release R --modules-dir DIR --init PATH -o OUT
 *                [--module NAME]... [--compress none|gzip] [--no-default-modules]
 * Builds the guest initrd (see build.c); prints the resolved module list. */
#include "mkinitrd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: ocivm-mkinitrd --kernel-release R --modules-dir DIR --init PATH -o OUT\n"
		   "       [--module NAME]... [--no-default-modules] [--compress none|gzip]\n");
}

static int parse_args(int argc, char **argv, struct mkinitrd_opts *o)
{
	static const struct option longopts[] = {
		{ "kernel-release", required_argument, NULL, 'r' },
		{ "modules-dir", required_argument, NULL, 'm' },
		{ "init", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "module", required_argument, NULL, 'M' },
		{ "compress", required_argument, NULL, 'c' },
		{ "no-default-modules", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, defaults = 1;
	const char *extra[MODRES_MAX];
	size_t n_extra = 0;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->release = optarg; break;
		case 'm': o->modules_dir = optarg; break;
		case 'i': o->init = optarg; break;
		case 'o': o->out = optarg; break;
		case 'n': defaults = 0; break;
		case 'M':
			if (n_extra >= MODRES_MAX / 2)
				return -1;
			extra[n_extra++] = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "gzip") == 0)
				o->compress = MKINITRD_GZIP;
			else if (strcmp(optarg, "none") != 0)
				return -1;
			break;
		case 'h': usage(stdout); return 1;
		default: return -1;
		}
	}
	if (optind != argc || !o->release || !o->modules_dir || !o->init || !o->out)
		return -1;
	for (size_t i = 0; defaults && mkinitrd_default_modules[i]; i++)
		o->modules[o->n_modules++] = mkinitrd_default_modules[i];
	for (size_t i = 0; i < n_extra; i++)
		o->modules[o->n_modules++] = extra[i];
	return 0;
}

int main(int argc, char **argv)
{
	struct mkinitrd_opts o = { 0 };
	struct oerr err = { 0 };
	int cached = 0, r = parse_args(argc, argv, &o);

	if (r != 0) {
		if (r < 0)
			usage(stderr);
		return r < 0 ? 2 : 0;
	}
	if (mkinitrd_build(&o, &cached, &err) < 0) {
		fprintf(stderr, "ocivm-mkinitrd: %s\n", err.msg);
		return 1;
	}
	printf("%s: %s\n", o.out, cached ? "up to date" : "written");
	return 0;
}
