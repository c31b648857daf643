// SPDX-License-Identifier: GPL-2.0-only
/*
 * The record of memory attributes (include/mem_attr.h): a sorted array of
 * disjoint ranges. Setting a range cuts the ranges it overlaps, inserts
 * the new one and merges equal neighbours, so the array stays as short as
 * the attribute map is fragmented.
 */
#include "mem_attr.h"

static void push(struct mem_attr_range **out, int *nr, int *max, u64 start,
		 u64 end, u64 attrs)
{
	struct mem_attr_range *last = *nr ? &(*out)[*nr - 1] : NULL;

	if (start >= end || !attrs)
		return;
	if (last && last->end == start && last->attrs == attrs) {
		last->end = end;
		return;
	}
	if (*nr == *max) {
		*max = *max ? *max * 2 : 8;
		*out = realloc(*out, *max * sizeof(**out));
		TEST_ASSERT(*out, "out of memory");
	}
	(*out)[(*nr)++] = (struct mem_attr_range){ start, end, attrs };
}

void mem_attr_map_set(struct mem_attr_map *m, u64 start, u64 size, u64 attrs)
{
	u64 end = start + size;
	struct mem_attr_range *out = NULL;
	int nr = 0, max = 0, i = 0;

	TEST_ASSERT(end >= start, "attribute range 0x%llx+0x%llx wraps",
		    (unsigned long long)start, (unsigned long long)size);
	/* Ranges wholly before, then the cut ones, the new one, the rest. */
	for (; i < m->nr && m->r[i].end <= start; i++)
		push(&out, &nr, &max, m->r[i].start, m->r[i].end, m->r[i].attrs);
	for (int j = i; j < m->nr && m->r[j].start < end; j++)
		push(&out, &nr, &max, m->r[j].start, min_t(u64, m->r[j].end, start),
		     m->r[j].attrs);
	push(&out, &nr, &max, start, end, attrs);
	for (; i < m->nr; i++) {
		if (m->r[i].end <= end)
			continue;
		push(&out, &nr, &max, max_t(u64, m->r[i].start, end), m->r[i].end,
		     m->r[i].attrs);
	}
	free(m->r);
	m->r = out;
	m->nr = nr;
	m->max = max;
}

u64 mem_attr_map_get(const struct mem_attr_map *m, u64 gpa)
{
	int lo = 0, hi = m->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (gpa < m->r[mid].start)
			hi = mid;
		else if (gpa >= m->r[mid].end)
			lo = mid + 1;
		else
			return m->r[mid].attrs;
	}
	return 0;
}

bool mem_attr_map_uniform(const struct mem_attr_map *m, u64 start, u64 size,
			  u64 attrs)
{
	u64 end = start + size;

	for (int i = 0; i < m->nr; i++) {
		const struct mem_attr_range *r = &m->r[i];

		if (r->end <= start || r->start >= end)
			continue;
		if (r->attrs != attrs)
			return false;
		if (attrs && r->start > start)
			return false;	/* a gap without attributes first */
		if (attrs)
			start = r->end;
	}
	/* With attrs: the ranges must have covered all of it. */
	return !attrs || start >= end;
}

void mem_attr_map_free(struct mem_attr_map *m)
{
	free(m->r);
	*m = (struct mem_attr_map){ 0 };
}
