// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forced emulation, host side: read the kvm module parameter. It is "Y"/"N"
 * on older kernels and 0/1/2 (2: also emulate #UD-free) on newer ones.
 */
#include <stdio.h>

#include "fep.h"

#define FEP_PARAM	"/sys/module/kvm/parameters/force_emulation_prefix"

bool kvm_fep_enabled(void)
{
	FILE *f = fopen(FEP_PARAM, "r");
	int c;

	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || (c >= '1' && c <= '9');
}
