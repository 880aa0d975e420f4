"""The structural loss of docs/loss.md in PyTorch (float64, one thread), as the side-by-side
reference for bench/loss: same assignment (balanced start; the give-up rule; on the final plan the
epsilon-scaled retry; every plan rounded onto the transport polytope; refinements as Frank-Wolfe
steps; context with its dummy costs, label-priced substitutions), same terms in both cost forms
(expected, likelihood), gradients by autograd. Reads cases as JSON on stdin, prints one JSON line per case."""
import json
import math
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def prepare(case, e, pi, A):
    K, m = case["K"], case["m"]
    y = torch.tensor(case["targetLabels"], dtype=torch.long)
    B = {r: torch.tensor(b, dtype=torch.float64).reshape(m, m) for r, b in case["targetEdges"].items()}
    eye_k = torch.eye(K)
    Ap = {r: (e[:, None] * e[None, :] * a) * (1 - eye_k) for r, a in A.items()}
    notU = torch.ones(K, K)
    for a in Ap.values():
        notU = notU * (1 - a) * (1 - a.T)
    U = (1 - notU) * (1 - eye_k)
    notV = torch.ones(m, m)
    for b in B.values():
        notV = notV * (1 - b) * (1 - b.T)
    V = (1 - notV) * (1 - torch.eye(m))
    c = case["cfg"]
    known = y >= 0
    pij = torch.where(known[None, :], pi[:, y.clamp(min=0)], torch.zeros(K, m))
    C = torch.zeros(K + 1, m + 1)
    C[:K, :m] = e[:, None] * (1 - pij) + (1 - e[:, None]) * c["node_insertion_cost"]
    C[:K, m] = e * c["node_deletion_cost"]
    C[K, :m] = c["node_insertion_cost"]
    # The assignment's node cost: substitutions priced by their label alone.
    Cm = C.clone()
    Cm[:K, :m] = 1 - pij
    return y, B, Ap, U, V, C, Cm


EPS = 1e-12


def clip(x):
    return x.clamp(EPS, 1 - EPS)


def likelihood_node_cost(case, e, pi, y):
    """The likelihood form's node cost (design section 7)."""
    c = case["cfg"]
    K, m = case["K"], case["m"]
    known = y >= 0
    logp = torch.where(known[None, :], -torch.log(clip(pi[:, y.clamp(min=0)])), torch.full((K, m), c["node_insertion_cost"]))
    C = torch.zeros(K + 1, m + 1)
    C[:K, :m] = -torch.log(clip(e))[:, None] + logp
    C[:K, m] = -c["node_deletion_cost"] * torch.log(1 - clip(e))
    C[K, :m] = c["node_insertion_cost"]
    return C


def terms(case, Ap, B, U, V, C, P, likelihood=False):
    c = case["cfg"]
    K, m = case["K"], case["m"]
    S = P[:K, :m]
    node = (P * C).sum()
    edge = 0
    for r in Ap:
        if likelihood:
            T = (S @ B[r] @ S.T).clamp(max=1) * (1 - torch.eye(K))
            a = clip(Ap[r])
            off = 1 - torch.eye(K)
            edge = edge - (off * (c["edge_insertion_cost"] * T * torch.log(a)
                                  + c["edge_deletion_cost"] * (1 - T) * torch.log(1 - a))).sum() \
                + c["edge_insertion_cost"] * (B[r].sum() - T.sum()).clamp(min=0)
        else:
            edge = edge + c["edge_deletion_cost"] * Ap[r].sum() + c["edge_insertion_cost"] * B[r].sum() \
                - (c["edge_deletion_cost"] + c["edge_insertion_cost"]) * (S.T @ Ap[r] @ S * B[r]).sum()
    Uh = (S.T @ U @ S) * (1 - torch.eye(m))
    UV = Uh * V
    clique = (torch.trace(Uh @ Uh @ Uh) + torch.trace(V @ V @ V) - 2 * torch.trace(UV @ UV @ UV)) / 6
    return node, edge, clique


def context_cost(case, e, pi, y, Ap, B):
    K, m, hops = case["K"], case["m"], case["cfg"]["context_hops"]
    labels = sorted(set(int(v) for v in y.tolist() if v >= 0))
    col = {l: i for i, l in enumerate(labels)}
    q = len(labels)
    X0 = torch.zeros(K, q + 1)
    for l, i in col.items():
        X0[:, i] = e * pi[:, l]
    Z0 = torch.zeros(m, q + 1)
    for j, l in enumerate(y.tolist()):
        Z0[j, col[l] if l >= 0 else q] = 1
    cost = torch.zeros(K, m)
    dele = torch.zeros(K)
    ins = torch.zeros(m)
    for r in Ap:
        for down in (True, False):
            A = Ap[r] if down else Ap[r].T
            Bt = B[r] if down else B[r].T
            X, mx, Z, mz = X0, e.clone(), Z0, torch.ones(m)
            for _ in range(hops):
                X, mx, Z, mz = A @ X, A @ mx, Bt @ Z, Bt @ mz
                # the dummies' context: distance to an empty neighbourhood
                dele = dele + 0.5 * mx / mx.clamp(min=1)
                ins = ins + 0.5 * mz / mz.clamp(min=1)
                inside = X[:, :q].sum(1)
                outside = (mx - inside).clamp(min=0)
                d = outside[:, None] + Z[None, :, q] + (X[:, None, :q] - Z[None, :, :q]).abs().sum(2)
                cost = cost + 0.5 * d / torch.maximum(torch.ones(K, m), torch.maximum(mx[:, None], mz[None, :]))
    return cost, dele, ins


def sinkhorn(M, a, b, tau, iters, tol, g0=None, give_up=False):
    L = -M / tau
    la, lb = a.log(), b.log()
    # balanced start, as in grapheme (differentiated too); or given potentials in cost units
    v = -0.5 * L.max(0).values + 0.5 * lb if g0 is None else g0 / tau
    u = None
    it = 0
    err = float("inf")
    while True:
        lse = torch.logsumexp(L + v[None, :], 1)
        if it > 0:
            prev = err
            err = float((torch.exp(u + lse) - a).abs().sum())
            if err < tol or it >= iters:
                break
            # grapheme's give-up rule: after 5 iterations, stop a run whose linear rate
            # (err/prev) cannot reach the tolerance within the cap
            if give_up and it >= 5 and prev < float("inf"):
                rate = err / prev
                if not rate < 1 or it + math.log(tol / err) / math.log(rate) > iters:
                    break
        u = la - lse
        v = lb - torch.logsumexp(L + u[:, None], 0)
        it += 1
    return torch.exp(L + u[:, None] + v[None, :]), it, err, v * tau


def sinkhorn_envelope(M, a, b, tau, iters, tol):
    """The plain run (given up early when too slow); if it does not converge, an epsilon-scaled
    start (stages at tau*2^s) and a second run, keeping the plan with the
    lower marginal error."""
    P, it, err, _ = sinkhorn(M, a, b, tau, iters, tol, give_up=True)
    if err < tol:
        return P, it, err
    rng = float(M.max() - M.min())
    # the schedule starts about range/8 (3 top stages skipped); no stage: the balanced start
    stages = max(0, min(30, math.ceil(math.log2(rng / tau))) - 3) if rng > tau else 0
    g = None
    for s in range(stages, 0, -1):
        # 4 iterations per stage, 12 at the last two (tau*4, tau*2)
        _, _, _, g = sinkhorn(M, a, b, tau * 2 ** s, 4 if s > 2 else 12, 1e-9, g)
    P2, it2, err2, _ = sinkhorn(M, a, b, tau, iters, tol, g)
    return (P2, it2, err2) if err2 <= err else (P, it, err)


def round_to_polytope(P, a, b):
    """Altschuler, Weed and Rigollet (2017), Algorithm 2: scale down the rows, then the columns,
    that carry too much, and add the missing mass as a rank-one correction."""
    x = torch.where(P.sum(1) > a, a / P.sum(1), torch.ones_like(a))
    X = x[:, None] * P
    y = torch.where(X.sum(0) > b, b / X.sum(0), torch.ones_like(b))
    Y = X * y[None, :]
    er = (a - Y.sum(1)).clamp(min=0)
    ec = (b - Y.sum(0)).clamp(min=0)
    s = er.sum()
    if float(s) <= 1e-13:
        return Y
    return Y + er[:, None] * ec[None, :] / s


def loss(case, e, pi, A):
    c = case["cfg"]
    K, m = case["K"], case["m"]
    y, B, Ap, U, V, C, Cm = prepare(case, e, pi, A)
    likelihood = c["cost_form"] == "likelihood"
    a = torch.ones(K + 1); a[K] = m
    b = torch.ones(m + 1); b[m] = K
    with torch.no_grad():
        ctx, ctx_del, ctx_ins = (c["context_weight"] * x for x in context_cost(case, e, pi, y, Ap, B))
    P = None
    Pfw = None
    T = c["structure_iterations"]
    for t in range(1, T + 1):
        struct = torch.zeros(K + 1, m + 1)
        if P is not None:
            S = P[:K, :m].detach().clone().requires_grad_(True)
            Pf = torch.zeros(K + 1, m + 1)
            Pf = Pf.index_put((torch.arange(K)[:, None], torch.arange(m)[None, :]), S)
            _, ed, cl = terms(case, {r: x.detach() for r, x in Ap.items()}, B, U.detach(), V, C.detach(), Pf)
            (g,) = torch.autograd.grad(c["beta"] * ed + c["gamma"] * cl, S)
            struct[:K, :m] = g
        struct[:K, :m] += ctx
        struct[:K, m] += ctx_del
        struct[K, :m] += ctx_ins
        unrolled = c["gradient"] == "unrolled" and t == T
        Mc = c["alpha"] * (Cm if unrolled else Cm.detach()) + struct
        if unrolled or t < T:
            # intermediate plans: the plain run, cut short when too slow (no retry);
            # the unrolled final plan: the plain run to the cap
            P, it, err, _ = sinkhorn(Mc, a, b, c["sinkhorn_temperature"], c["sinkhorn_iterations"], c["sinkhorn_tolerance"],
                                     give_up=t < T)
        else:
            P, it, err = sinkhorn_envelope(Mc, a, b, c["sinkhorn_temperature"], c["sinkhorn_iterations"], c["sinkhorn_tolerance"])
        X = round_to_polytope(P, a, b)
        if not unrolled:
            X = X.detach()
        # Frank-Wolfe step towards the new plan, eta = 2/(t+1)
        eta = 2 / (t + 1)
        P = X if Pfw is None else (1 - eta) * Pfw + eta * X
        Pfw = P.detach()
    node, edge, clique = terms(case, Ap, B, U, V, likelihood_node_cost(case, e, pi, y) if likelihood else C, P, likelihood)
    return c["alpha"] * node + c["beta"] * edge + c["gamma"] * clique, it


def main():
    cases = json.load(sys.stdin)
    for case in cases:
        K = case["K"]
        e0 = torch.tensor(case["exist"], dtype=torch.float64)
        pi0 = torch.tensor(case["labels"], dtype=torch.float64).reshape(K, case["L"])
        A0 = {r: torch.tensor(x, dtype=torch.float64).reshape(K, K) for r, x in case["edges"].items()}
        times = []
        for rep in range(case["repeats"] + 1):
            e = e0.clone().requires_grad_(True)
            pi = pi0.clone().requires_grad_(True)
            A = {r: x.clone().requires_grad_(True) for r, x in A0.items()}
            t0 = time.perf_counter()
            total, it = loss(case, e, pi, A)
            total.backward()
            if rep > 0:
                times.append(time.perf_counter() - t0)
        times.sort()
        print(json.dumps({"total": float(total), "iterations": it, "ms": 1000 * times[len(times) // 2],
                          "gradExist": e.grad.tolist()}), flush=True)


if __name__ == "__main__":
    main()
