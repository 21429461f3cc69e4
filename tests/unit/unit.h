/* unit.h — the shared runner for the unit tests: the check framework, reporting in TAP
 * so that `make check` counts every test case.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <check.h>
#include <stdlib.h>

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
