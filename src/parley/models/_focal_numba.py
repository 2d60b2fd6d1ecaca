"""Compiled engine of the `focal` model (numba): landing points, probabilities and medians, one
(draw, issue) row at a time.

Why: the numpy engine (`focal.landing` and `focal._median`) pushes every block of draws through
some sixty array operations (sorting and merging the candidates, scattering the features of who
holds each point, the softmax, two bisections); at 10^5 draws of the bundled scenario that is
about 2 s of one core. Here each row is one pass over its few candidates with no temporary
arrays, about ten times less.

The algorithm is that of the numpy engine, step by step (read `focal.landing`, `focal._merge`
and `mixed.quantile_search` for the reasoning). Sums are taken in numpy's order: a row sum in
its pairwise order (`_row_sum`), a running sum in index order. So the candidates merge into the
same landing points, every feature takes the same value and the same candidate leads each point.
Only `exp` differs: numpy's SIMD exponential and the C library's used here can differ in the last
bit, so probabilities agree with the numpy engine to about 1e-16 and medians to about 1e-13
(tested), not bit for bit. Rows are independent, so a row's result does not depend on its block.
Compiled on first use (about 15 s) and cached on disk (numba `cache=True`). Helpers that take
arrays are inlined in numba's IR: a call that passes an array counts references to it with
atomic operations, which cost more than the arithmetic here. Helpers of scalars are left to
LLVM, which inlines them without numba's compile time (inlining everything in numba's IR took
40 s to compile).
The knots of the continuous part must be evenly spaced (the model's are: 0, 1, ..., 100) and
come as grid = (first knot, spacing, number of knots).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BETA = ("weight_share", "holder_share", "capability_rank", "distance", "signed_distance",
        "council_median", "extreme", "beats_reference", "between_commission_reference",
        "scale_end", "remainder", "remainder_spread")
"""The coefficients the kernel reads, in the order of its `beta` argument (`focal` builds it
from these names; flags of single candidates come separately as `flag_j`, `flag_beta`)."""
_WS, _HS, _CR, _DI, _SD, _CM, _EX, _BR, _BC, _SE, _RM, _RS = range(12)

EPS = 1e-12  # mixed.EPS (a test checks it)
MAX_CANDIDATES = 127
"""Candidates (actors + POINTS) the engine takes: every row sum then has at most 128 terms, which
numpy adds in one block (`_leaf_sum`); larger scenarios take the numpy engine."""
POINTS = ("reference", "low_end", "midpoint", "high_end", "compromise", "median", "qmv_pivot",
          "unanimity_pivot", "agenda", "codecision")
"""focal.POINTS, the order `_candidates` writes them in after the actors (a test checks it)."""


@njit(cache=True, inline="always")
def _leaf_sum(a, start, n):
    """numpy's pairwise sum of at most 128 terms: a plain loop under 8 terms, else eight
    interleaved partial sums combined as a tree, then the last n % 8 terms."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - n % 8:
        b = start + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@njit(cache=True, inline="always")
def _row_sum(a, start, n):
    """numpy's sum of a[start:start + n] along a contiguous axis, for n <= 128 (numpy sums
    longer rows as two halves; the engine takes at most MAX_CANDIDATES candidates, so its
    rows are never that long)."""
    return _leaf_sum(a, start, n)


@njit(cache=True)
def _knot(i, grid):
    """Knot i of the evenly spaced knots grid = (first knot, spacing, number of knots)."""
    return grid[0] + i * grid[1]


@njit(cache=True)
def _search_left(x, grid):
    """np.searchsorted(knots, x, side="left"): the knots below x (NaN after all of them),
    from where x falls on the grid, checking the neighbours: no branchy bisection."""
    m = grid[2]
    if x != x:
        return m
    if x <= grid[0]:
        return 0
    if x > _knot(m - 1, grid):
        return m
    i = min(max(math.ceil((x - grid[0]) / grid[1]), 0), m)
    while i > 0 and not _knot(i - 1, grid) < x:
        i -= 1
    while i < m and _knot(i, grid) < x:
        i += 1
    return i


@njit(cache=True)
def _search_right(x, grid):
    """np.searchsorted(knots, x, side="right"): the knots at or below x."""
    m = grid[2]
    if x != x:
        return m
    if x < grid[0]:
        return 0
    if x >= _knot(m - 1, grid):
        return m
    i = min(max(math.floor((x - grid[0]) / grid[1]) + 1, 0), m)
    while i > 0 and x < _knot(i - 1, grid):
        i -= 1
    while i < m and not x < _knot(i, grid):
        i += 1
    return i


@njit(cache=True)
def _raw(x, centre, scale):
    """TruncatedLaplace._raw: the untruncated Laplace CDF."""
    z = (x - centre) / scale
    half_tail = 0.5 * math.exp(-abs(z))
    return half_tail if z < 0 else 1 - half_tail


@njit(cache=True)
def _value_at(i, grid, lap):
    """TruncatedLaplace.at for one row: the truncated CDF at knot i. lap = (centre, scale, a, b,
    ra, denom, flat)."""
    x = min(max(_knot(i, grid), lap[2]), lap[3])
    flat = lap[6] != 0.0
    return (x - lap[2]) / (lap[3] - lap[2]) if flat else (_raw(x, lap[0], lap[1]) - lap[4]) / lap[5]


@njit(cache=True)
def _continuous(x, grid, lap, rem):
    """mixed.continuous for one row: rem × the continuous part's CDF at x."""
    m = grid[2]
    if x < grid[0]:
        return rem * 0.0
    if x >= _knot(m - 1, grid):
        return rem * 1.0
    i = min(max(math.floor((x - grid[0]) / grid[1]), 0), m - 2)
    lo, hi = _knot(i, grid), _knot(i + 1, grid)
    c0 = _value_at(i, grid, lap)
    frac = min(max((x - lo) / (hi - lo), 0.0), 1.0)
    if frac == 0.0:  # on the knot: c0 + 0 × (c1 − c0) is c0, whatever c1 is
        return rem * c0
    c1 = _value_at(i + 1, grid, lap)
    return rem * (c0 + frac * (c1 - c0))


@njit(cache=True)
def _inverse(t, lap):
    """Where the truncated Laplace CDF reaches t (its continuous form, between the knots): a
    first guess for the knot search, which then checks it."""
    if lap[6] != 0.0:
        return lap[2] + t * (lap[3] - lap[2])
    y = lap[4] + t * lap[5]
    if y <= 0.0 or y >= 1.0:
        return np.nan
    if y < 0.5:
        return lap[0] + lap[1] * math.log(2.0 * y)
    return lap[0] - lap[1] * math.log(2.0 * (1.0 - y))


@njit(cache=True)
def _reaches(i, c_j, thr, grid, on_knot, lap, rem):
    """Whether F reaches the threshold at knot i (between two atoms: c_j + the continuous part)."""
    m = grid[2]
    if on_knot:  # continuous() at an inner knot is rem × the CDF there
        cont = rem * _value_at(min(i, m - 2), grid, lap)
    else:
        cont = _continuous(_knot(min(i, m - 1), grid), grid, lap, rem)
    return c_j + cont >= thr


@njit(cache=True, inline="always")
def _median(pt, ms, g, rem, lap, grid, on_knot, cum, first, tau):
    """mixed.quantile_search for one row: atoms pt[:g] (sorted) with masses ms[:g], continuous
    weight rem; Q(tau)."""
    m = grid[2]
    k0, km = grid[0], _knot(m - 1, grid)
    thr = tau - EPS
    cum[0] = 0.0
    lo_i, hi_i = 0, 0
    for i in range(g):
        cum[i + 1] = cum[i] + ms[i]
        first[i] = i if i == 0 or pt[i] != pt[i - 1] else first[i - 1]
        if pt[i] < k0:
            lo_i += 1
        if pt[i] <= km:
            hi_i += 1
    # the first atom J whose left limit reaches tau. The continuous part adds between 0 and
    # rem: atoms whose mass below already reaches the threshold pass, and those that would not
    # reach it with all of rem fail, without evaluating the Laplace CDF (the margin covers
    # rounding); the bisection runs between them
    lo, hi = lo_i, hi_i
    while lo < hi and cum[first[lo]] + rem * (1.0 + 1e-9) < thr:
        lo += 1
    for j in range(lo, hi):
        if cum[first[j]] >= thr:
            hi = j
            break
    while lo < hi:
        mid = (lo + hi) // 2
        j = min(mid, g - 1)
        if cum[first[j]] + _continuous(pt[j], grid, lap, rem) >= thr:
            hi = mid
        else:
            lo = min(mid + 1, hi)
    big = lo
    c_j = cum[big]
    below = pt[max(big - 1, 0)] if big > lo_i else -np.inf
    upper = pt[min(big, g - 1)] if big < hi_i else km
    # between the atoms below and at J: the first knot where F reaches tau. First the knot
    # where the (untruncated) continuous CDF reaches the target and the one before it, then a
    # bisection if that was not the first: the same knot as numpy's plain bisection (F is
    # monotone), mostly in two CDF evaluations instead of seven
    k_hi = _search_left(upper, grid)
    k_lo = min(max(_search_right(below, grid), 1), k_hi)
    lo, hi = k_lo, k_hi
    if lo < hi and rem > 0.0:
        guess = min(max(_search_left(_inverse((thr - c_j) / rem, lap), grid), lo), hi - 1)
        at_guess = _reaches(guess, c_j, thr, grid, on_knot, lap, rem)
        before = guess > lo and _reaches(guess - 1, c_j, thr, grid, on_knot, lap, rem)
        if before:
            hi = guess - 1
        elif at_guess:
            lo = hi = guess
        else:
            lo = guess + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _reaches(mid, c_j, thr, grid, on_knot, lap, rem):
            hi = mid
        else:
            lo = min(mid + 1, hi)
    end = _knot(min(lo, m - 1), grid) if lo < k_hi else upper
    start = max(below, _knot(max(_search_left(end, grid) - 1, 0), grid))
    s = c_j + _continuous(start, grid, lap, rem)
    e = c_j + _continuous(end, grid, lap, rem)
    slope = (tau - s) / (e - s) if e - s > EPS else 0.0
    q = start if s >= tau - EPS else start + min(max(slope, 0.0), 1.0) * (end - start)
    if hi_i < g and big == hi_i and e < thr:
        q = km
    return q


@njit(cache=True)
def _beats(x, q, p_r, p_l):
    """procedural.beats for one point."""
    right = q < p_r
    left = q > p_l
    lo = q if right else (2 * p_l - q if left else q)
    hi = 2 * p_r - q if right else q
    inside = x >= lo - 1e-9 and x <= hi + 1e-9 and abs(x - q) > 1e-9
    return inside and (right or left) and math.isfinite(q)


@njit(cache=True)
def _fmin(a, b):
    return b if a != a else (a if b != b else min(a, b))


@njit(cache=True)
def _fmax(a, b):
    return b if a != a else (a if b != b else max(a, b))


@njit(cache=True)
def _np_max(a, b):
    """np.maximum: NaN if either is NaN."""
    return np.nan if a != a or b != b else (a if a >= b else b)


@njit(cache=True)
def _np_min(a, b):
    """np.minimum: NaN if either is NaN."""
    return np.nan if a != a or b != b else (a if a <= b else b)


@njit(cache=True)
def _np_clip(x, lo, hi):
    """np.clip for floats: a NaN value or bound comes through."""
    if x != x:
        return x
    y = x if x > lo else lo
    if y != y:
        return y
    return y if y < hi else hi


@njit(cache=True, inline="always")
def _actor_sum(a, n, one_issue):
    """A sum over the actors axis of a [D, N, K] array as numpy takes it: that axis is the
    contiguous one when K = 1 (pairwise order), else numpy adds whole issue rows one actor after
    the other (index order)."""
    if one_issue:
        return _row_sum(a, 0, n)
    res = a[0]
    for i in range(1, n):
        res += a[i]
    return res


@njit(cache=True)
def _pivot_point(q, p_r, p_l):
    """procedural.pivot_point."""
    return p_r if q < p_r else (p_l if q > p_l else q)


@njit(cache=True)
def _winset(q, p_r, p_l):
    """procedural.winset."""
    right = q < p_r
    left = q > p_l
    lo = q if right else (2 * p_l - q if left else q)
    hi = 2 * p_r - q if right else q
    return lo, hi


@njit(cache=True)
def _agenda_point(q, commission, p_r, p_l, lo_core, hi_core):
    """procedural.agenda_point."""
    lo, hi = _winset(q, p_r, p_l)
    lo, hi = _np_max(lo, lo_core), _np_min(hi, hi_core)
    moves = (q < p_r or q > p_l) and lo <= hi
    return _np_clip(commission, lo, hi) if moves else q


@njit(cache=True)
def _codecision_point(q, parliament, p_r, p_l):
    """procedural.codecision_point."""
    lo, hi = _winset(q, p_r, p_l)
    ep_lo = _np_min(q, 2 * parliament - q)
    ep_hi = _np_max(q, 2 * parliament - q)
    lo, hi = _np_max(lo, ep_lo), _np_min(hi, ep_hi)
    council = _pivot_point(q, p_r, p_l)
    moves = (q < p_r or q > p_l) and lo < hi and abs(parliament - q) > 1e-9
    return _np_clip((council + parliament) / 2, lo, hi) if moves else q


@njit(cache=True, inline="always")
def _pivots(xs, from_top, from_bottom, n, total, quota):
    """procedural.pivot_sets for one quota on positions xs sorted ascending: (p_R, p_L)."""
    if total <= 0:
        return np.nan, np.nan
    need = quota * total * (1 - 1e-9)
    right = n - 1
    for i in range(n - 1, -1, -1):
        if from_top[i] >= need:
            right = i
            break
    left = 0
    for i in range(n):
        if from_bottom[i] >= need:
            left = i
            break
    return xs[right], xs[left]


@njit(cache=True, inline="always")
def _candidates(cv, d, k, position, salience, cap, engaged, council, status_quo, com_i, ep_i,
                qmv, quota, codecision, w_row, a_row, v_row, idx, xs, tmp, tmp2, tmp3):
    """focal.candidates for row (d, k) into cv [N + P] (NaN = not available), with the actors'
    weights w_row (capability × salience, equal where they add to 0), positions a_row and
    Council votes v_row, and the actors in order of position: idx, their positions xs, the
    votes at or below each (tmp2) and at or above (tmp3). Returns (compromise, q, rule pivots
    p_R, p_L, Commission)."""
    n = a_row.size
    one_issue = engaged.shape[1] == 1
    for j in range(n):
        eng = 1.0 if engaged[j, k] else 0.0
        w_row[j] = (cap[d, j] * salience[d, j, k]) * eng
        a_row[j] = position[d, j, k]
        v_row[j] = cap[d, j] * (1.0 if council[j] and engaged[j, k] else 0.0)
        cv[j] = a_row[j] if engaged[j, k] else np.nan
    if _actor_sum(w_row, n, one_issue) <= 0:  # with_fallback
        for j in range(n):
            w_row[j] = 1.0 if engaged[j, k] else 0.0
    for j in range(n):
        tmp[j] = w_row[j] * a_row[j]
    mean = _actor_sum(tmp, n, one_issue) / _actor_sum(w_row, n, one_issue)
    # the weighted median and the pivots: actors sorted by position (stable)
    for j in range(n):
        i = j
        while i > 0 and a_row[idx[i - 1]] > a_row[j]:
            idx[i] = idx[i - 1]
            i -= 1
        idx[i] = j
    cum = 0.0
    for i in range(n):
        xs[i] = a_row[idx[i]]
        cum = w_row[idx[i]] if i == 0 else cum + w_row[idx[i]]
        tmp[i] = cum
    half = tmp[n - 1] / 2.0
    tol = 1e-9 * tmp[n - 1]
    lower, upper = 0, 0
    for i in range(n):
        if tmp[i] >= half - tol:
            lower = i
            break
    for i in range(n):
        if tmp[i] > half + tol:
            upper = i
            break
    med = (xs[lower] + xs[upper]) / 2.0
    for i in range(n):
        tmp[i] = v_row[idx[i]]  # votes in position order
    total = _actor_sum(tmp, n, one_issue)
    for i in range(n):
        tmp2[i] = tmp[i] if i == 0 else tmp2[i - 1] + tmp[i]
    for i in range(n - 1, -1, -1):
        tmp3[i] = tmp[i] if i == n - 1 else tmp3[i + 1] + tmp[i]
    qr, ql = _pivots(xs, tmp3, tmp2, n, total, quota)
    ur, ul = _pivots(xs, tmp3, tmp2, n, total, 1.0)
    rr, rl = (qr, ql) if qmv else (ur, ul)
    q = status_quo[d, k]
    com = position[d, com_i, k] if com_i >= 0 and engaged[com_i, k] else np.nan
    ep = position[d, ep_i, k] if ep_i >= 0 and engaged[ep_i, k] else np.nan
    cv[n], cv[n + 1], cv[n + 2], cv[n + 3] = q, 0.0, 50.0, 100.0
    cv[n + 4], cv[n + 5] = mean, med
    cv[n + 6], cv[n + 7] = _pivot_point(q, qr, ql), _pivot_point(q, ur, ul)
    cv[n + 8] = _agenda_point(q, com, rr, rl, ur, ul)
    cv[n + 9] = _codecision_point(q, ep, rr, rl) if codecision else np.nan
    return mean, q, rr, rl, com


@njit(cache=True, error_model="numpy")
def land(position, salience, cap, engaged, status_quo, council, com_i, ep_i, qmv, quota,
         codecision, merge, lead, flag_j, flag_beta, low_j, high_j, beta, grid, on_knot, scale,
         point_out, mass_out, rem_out, slot_out, median_out):
    """Rows r = draw × issues + issue of position, salience [D, N, K], capability cap [D, N],
    engaged [N, K], status_quo [D, K]; council [N]: who votes in the Council; com_i, ep_i: the
    Commission's and Parliament's indices (-1: none); qmv: the rule (else unanimity) and its
    quota; codecision: the procedure; lead: the candidates in reverse order of who names a merged
    point. Writes point_out, mass_out [R, C] (landing points, 100 and 0 in unused slots),
    rem_out [R], slot_out [R, C] (each candidate's landing point, -1 where not available) and
    median_out [R]."""
    r_total, c = point_out.shape
    n = cap.shape[1]
    n_issues = engaged.shape[1]
    cv = np.empty(c)
    order = np.empty(c, np.intp)
    slot = np.empty(c, np.intp)
    pt = np.empty(c)
    share = np.empty(c)
    count = np.empty(c)
    best = np.empty(c)
    held = np.empty(c)
    u = np.empty(c)
    e = np.empty(c)
    laid = np.zeros(c + 1)
    tmp = np.empty(max(n, c))
    from_bottom = np.empty(n)
    from_top = np.empty(n)
    idx = np.empty(n, np.intp)
    rank_of = np.empty(n, np.intp)
    xs = np.empty(n)
    lead_u = np.empty(n)
    cum = np.empty(c + 1)
    first = np.empty(c, np.intp)
    w_row = np.empty(n)
    v_row = np.empty(n)
    a_row = np.empty(n)
    m_row = np.empty(c)
    n_eng = np.zeros(n_issues)
    for k in range(n_issues):
        for j in range(n):
            if engaged[j, k]:
                n_eng[k] += 1
    for r in range(r_total):
        d = r // n_issues
        k = r % n_issues
        mean, qr, p_r, p_l, com = _candidates(
            cv, d, k, position, salience, cap, engaged, council, status_quo, com_i, ep_i, qmv,
            quota, codecision, w_row, a_row, v_row, idx, xs, tmp, from_bottom, from_top)
        # sort the available candidates (stable) and merge neighbours closer than `merge`
        avail = 0
        for j in range(c):
            x = cv[j]
            slot[j] = -1
            if not math.isfinite(x):
                continue
            i = avail
            while i > 0 and cv[order[i - 1]] > x:
                order[i] = order[i - 1]
                i -= 1
            order[i] = j
            avail += 1
        g = 0
        prev = 0.0
        for i in range(avail):
            x = cv[order[i]]
            if i == 0 or x - prev > merge:
                g += 1
            slot[order[i]] = g - 1
            prev = x
        for i in range(lead.size):  # the leading candidate of a point is written last
            j = lead[i]
            if slot[j] >= 0:
                pt[slot[j]] = cv[j]
        for s in range(g):
            share[s] = 0.0
            count[s] = 0.0
            best[s] = 0.0
            held[s] = 0.0
        # who holds each point: weight, count, best capability rank; the lowest-index holder's
        # Council-median and extreme flags
        wsum = max(_row_sum(w_row, 0, n), 1e-300)
        half = 0.5 * _row_sum(v_row, 0, n)
        lo_act = np.nan
        hi_act = np.nan
        for j in range(n):
            if engaged[j, k]:
                x = a_row[j]
                lo_act = x if lo_act != lo_act else min(lo_act, x)
                hi_act = x if hi_act != hi_act else max(hi_act, x)
        # Council median: do the votes at or below (above) the holder's position reach half?
        # numpy decides from the masked votes summed in index order (`_row_sum`). The votes
        # cumulated in order of position decide unless they lie within `margin` of half (sums
        # of the same terms in another order differ by far less); then the exact sum does
        for i in range(n):
            rank_of[idx[i]] = i
        margin = 1e-10 * (2.0 * half)
        for j in range(n):
            median = False
            if half > 0 and slot[j] >= 0:  # only the holders' flags are read
                limit = a_row[j] + merge
                i = rank_of[j]
                while i >= 0 and xs[i] > limit:
                    i -= 1
                while i + 1 < n and xs[i + 1] <= limit:
                    i += 1
                approx = from_bottom[i] if i >= 0 else 0.0
                if approx >= half + margin:
                    below_ok = True
                elif approx <= half - margin:
                    below_ok = False
                else:
                    for m in range(n):
                        tmp[m] = v_row[m] if a_row[m] <= limit else 0.0
                    below_ok = _row_sum(tmp, 0, n) >= half
                if below_ok:
                    limit = a_row[j] - merge
                    i = rank_of[j]
                    while i < n and xs[i] < limit:
                        i += 1
                    while i - 1 >= 0 and xs[i - 1] >= limit:
                        i -= 1
                    approx = from_top[i] if i < n else 0.0
                    if approx >= half + margin:
                        median = True
                    elif approx <= half - margin:
                        median = False
                    else:
                        for m in range(n):
                            tmp[m] = v_row[m] if a_row[m] >= limit else 0.0
                        median = _row_sum(tmp, 0, n) >= half
            extreme = abs(a_row[j] - lo_act) <= merge or abs(a_row[j] - hi_act) <= merge
            lead_u[j] = beta[_CM] * (1.0 if median else 0.0) + beta[_EX] * (1.0 if extreme else 0.0)
        for j in range(n):
            s = slot[j]
            if s < 0:
                continue
            share[s] += w_row[j]
            count[s] += 1.0
            more = 0
            for m in range(n):
                if engaged[m, k] and cap[d, m] > cap[d, j]:
                    more += 1
            best[s] = max(best[s], 1.0 - more / max(n_eng[k] - 1, 1.0))
        for j in range(n - 1, -1, -1):
            if slot[j] >= 0:
                held[slot[j]] = lead_u[j]
        # the linear predictor of every point
        lo_cq = _fmin(com, qr) - merge
        hi_cq = _fmax(com, qr) + merge
        cq_known = math.isfinite(com + qr)
        for s in range(g):
            dist = (pt[s] - mean) / 100.0
            val = (beta[_WS] * (share[s] / wsum) + beta[_HS] * (count[s] / max(n_eng[k], 1.0))
                   + beta[_CR] * best[s] + beta[_DI] * abs(dist) + beta[_SD] * dist)
            val += held[s]
            val += beta[_BR] * (1.0 if _beats(pt[s], qr, p_r, p_l) else 0.0)
            between = pt[s] >= lo_cq and pt[s] <= hi_cq and cq_known
            val += beta[_BC] * (1.0 if between else 0.0)
            u[s] = val
        for f in range(flag_j.size):
            if slot[flag_j[f]] >= 0:
                u[slot[flag_j[f]]] += flag_beta[f]
        u[slot[low_j]] += beta[_SE]
        u[slot[high_j]] += 0.0 if slot[high_j] == slot[low_j] else beta[_SE]
        # the continuous remainder, then the softmax over points and remainder
        for j in range(n):
            dev = a_row[j] - mean
            tmp[j] = w_row[j] * (dev * dev)
        spread = math.sqrt(_row_sum(tmp, 0, n) / wsum) / 100.0
        u_rest = beta[_RM] + beta[_RS] * spread
        top = u_rest
        for s in range(g):
            top = max(top, u[s])
        for s in range(g):
            e[s] = math.exp(u[s] - top)
            laid[s] = e[s]
        for s in range(g, c):
            laid[s] = 0.0
        laid[c] = math.exp(u_rest - top)
        total = _row_sum(laid, 0, c + 1)
        for s in range(c):
            m_row[s] = e[s] / total if s < g else 0.0
            point_out[r, s] = pt[s] if s < g else 100.0
            mass_out[r, s] = m_row[s]
            slot_out[r, s] = slot[s]
        rem = min(max(1.0 - _row_sum(m_row, 0, c), 0.0), 1.0)
        rem_out[r] = rem
        # the median of the mixed distribution (truncated Laplace on the actors' range)
        m = grid[2]
        i_lo = min(max(_search_right(lo_act, grid) - 1, 0), m - 2)
        i_hi = min(max(_search_left(hi_act, grid), 1), m - 1)
        i_hi = max(i_hi, i_lo + 1)
        a_knot, b_knot = _knot(i_lo, grid), _knot(i_hi, grid)
        ra = _raw(a_knot, mean, scale)
        rb = _raw(b_knot, mean, scale)
        flat = rb - ra <= 1e-12
        lap = (mean, scale, a_knot, b_knot, ra, 1.0 if flat else rb - ra, 1.0 if flat else 0.0)
        median_out[r] = _median(pt, m_row, g, rem, lap, grid, on_knot, cum, first, 0.5)
