#include "procstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Boot time (unix seconds) from /proc/stat's btime line, or -1. */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char *line = NULL;
	size_t cap = 0;
	double bt = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "btime ", 6)) {
			bt = strtod(line + 6, NULL);
			break;
		}
	}
	free(line);
	fclose(f);
	return bt;
}

/*
 * /proc/self/stat: "pid (comm) state ppid ...".  The command name may
 * hold spaces and parentheses, so fields are counted from the last ')':
 * after it come field 3 (state) onwards, and field k is the (k - 3)th
 * there (proc(5)): utime 14, stime 15, starttime 22, vsize 23, rss 24.
 */
static bool read_stat(struct procstat *ps)
{
	static double start_time = -1;
	char buf[1024];
	unsigned long long field[22];
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	const char *p;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || ticks <= 0 || page <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return false;
	p += 3;                    /* past ") " and the one-letter state */
	for (int i = 1; i < 22; i++) {
		char *end;
		field[i] = strtoull(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	ps->cpu_seconds = (double)(field[11] + field[12]) / (double)ticks;
	ps->virtual_bytes = field[20];
	ps->resident_bytes = field[21] * (unsigned long long)page;
	/* Once: btime is recomputed from the clock on every read and may
	 * move by a second, but the start time does not change. */
	if (start_time < 0) {
		double bt = boot_time();
		if (bt < 0)
			return false;
		start_time = bt + (double)field[19] / (double)ticks;
	}
	ps->start_time = start_time;
	return true;
}

/* Open descriptors, not counting the one that lists them. */
static bool count_fds(uint64_t *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*out = n ? n - 1 : 0;
	return true;
}

void procstat_read(struct procstat *ps)
{
	struct rlimit rl;

	memset(ps, 0, sizeof(*ps));
	ps->have_stat = read_stat(ps);
	ps->have_fds = count_fds(&ps->open_fds) &&
		       getrlimit(RLIMIT_NOFILE, &rl) == 0;
	if (ps->have_fds)
		ps->max_fds = rl.rlim_cur == RLIM_INFINITY ? INFINITY :
			      (double)rl.rlim_cur;
}
