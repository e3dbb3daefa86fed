/*
 * tests/unit/plan.c: the plan of a libcheck binary, for tests/unit/run.sh.
 *
 * Linked into every unit test binary with -Wl,--wrap=_tcase_add_test and
 * -Wl,--wrap=srunner_run_all (see the Makefile). Every test a suite registers
 * (one per tcase_add_test, end - start per loop test) is counted as it is
 * added; srunner_run_all prints "unit-plan: N" before running them. run.sh
 * compares N with the sum of libcheck's "Checks: N" summary lines, so a
 * binary that runs fewer tests than it registered (a CK_RUN_CASE filter left
 * set, a runner that stops early) fails instead of passing on what it ran.
 */
#include <check.h>
#include <stdio.h>

void __real__tcase_add_test(TCase *tc, const TTest *ttest, int sig, int allowed_exit, int start, int end);
void __wrap__tcase_add_test(TCase *tc, const TTest *ttest, int sig, int allowed_exit, int start, int end);
void __real_srunner_run_all(SRunner *sr, enum print_output print_mode);
void __wrap_srunner_run_all(SRunner *sr, enum print_output print_mode);

static int planned;

void __wrap__tcase_add_test(TCase *tc, const TTest *ttest, int sig, int allowed_exit, int start, int end)
{
	if (end > start)
		planned += end - start;
	__real__tcase_add_test(tc, ttest, sig, allowed_exit, start, end);
}

void __wrap_srunner_run_all(SRunner *sr, enum print_output print_mode)
{
	printf("unit-plan: %d\n", planned);
	fflush(stdout); /* before the forks: a child must not print it again */
	__real_srunner_run_all(sr, print_mode);
}
