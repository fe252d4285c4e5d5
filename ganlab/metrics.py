"""Metrics of a generator: mode coverage on the toy mixtures (docs/design.md §4), and the densities
behind D* (Proposition 1) where pdata is known and pg is estimated.

Protocol (VEEGAN / PacGAN): 2,500 samples; a sample is high-quality if it lies within 3 std of its
nearest mode; a mode is covered if it is the nearest mode of at least one high-quality sample.
"""

from __future__ import annotations

import math

import torch


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, n_std: float = 3.0) -> dict:
    """Modes covered, high-quality fraction, KL(covered-mode histogram || uniform) in nats, and that
    histogram: high-quality samples per mode. The KL is what PacGAN (Lin et al., 2018) calls the
    reverse KL of the mode distribution, KL(generated || true), also given under that name.

    >>> c = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> mode_coverage(torch.tensor([[0.01, 0.0], [5.0, 5.0]]), c, std=0.1)["modes_covered"]
    1
    """
    samples = samples.reshape(len(samples), -1).double()
    centres = centres.to(samples)
    dist = torch.cdist(samples, centres)                        # (n, K)
    nearest_dist, nearest = dist.min(dim=1)
    hq = nearest_dist <= n_std * std
    counts = torch.bincount(nearest[hq], minlength=len(centres)).double()
    k = len(centres)
    if counts.sum() > 0:
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * (p[nz] * k).log()).sum())
    else:
        kl = None  # no high-quality sample: the histogram is undefined
    return {
        "modes_covered": int((counts > 0).sum()),
        "modes_total": k,
        "high_quality_fraction": float(hq.double().mean()),
        "mode_kl_to_uniform": kl,
        "reverse_kl": kl,
        "mode_counts": [int(c) for c in counts],
    }


def kde_log_density(samples: torch.Tensor, x: torch.Tensor, bandwidth: float | None = None) -> torch.Tensor:
    """Gaussian kernel density estimate of the samples' density, evaluated at x: log p(x), (m,).

    The bandwidth defaults to Scott's rule, n^(-1/(d+4)) times the samples' mean std. Used for pg,
    which a GAN never gives explicitly (Sec. 6 of the paper).
    """
    samples = samples.reshape(len(samples), -1).double()
    x = x.reshape(len(x), -1).double()
    n, d = samples.shape
    if bandwidth is None:
        bandwidth = float(samples.std(dim=0).mean().clamp_min(1e-3)) * n ** (-1.0 / (d + 4))
    sq = (x[:, None, :] - samples[None]).square().sum(-1)              # (m, n)
    log_k = -sq / (2 * bandwidth**2) - 0.5 * d * math.log(2 * math.pi * bandwidth**2)
    return torch.logsumexp(log_k, dim=1) - math.log(n)


def optimal_discriminator(log_pdata: torch.Tensor, log_pg: torch.Tensor) -> torch.Tensor:
    """Proposition 1: D*(x) = pdata / (pdata + pg) = sigmoid(log pdata - log pg), stable in logs."""
    return torch.sigmoid(log_pdata - log_pg)


# ---------------------------------------------------------------- Parzen window (Table 1)
PARZEN_SIGMAS = tuple(float(s) for s in torch.logspace(-1, 0, 10, dtype=torch.float64))


def _sq_dists(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Squared distances (m, n) in float64 by the matmul expansion: one BLAS call per chunk
    instead of an (m, n, D) tensor; float64 keeps |x|^2 + |c|^2 - 2 x.c from cancelling."""
    d = (x * x).sum(1, keepdim=True) + (centres * centres).sum(1) - 2 * x @ centres.T
    return d.clamp_min_(0)


def parzen_log_likelihood(centres: torch.Tensor, x: torch.Tensor, sigmas, chunk: int = 250) -> torch.Tensor:
    """log p(x) under an isotropic Gaussian Parzen window on `centres`, for each sigma: (len(sigmas), m).

    log p(x) = logsumexp_i(-|x - c_i|^2 / 2 sigma^2) - log n - (D/2) log(2 pi sigma^2)
    """
    centres = centres.reshape(len(centres), -1).double()
    x = x.reshape(len(x), -1).double()
    n, dim = centres.shape
    sig = torch.as_tensor(list(sigmas), dtype=torch.float64)
    const = -math.log(n) - 0.5 * dim * torch.log(2 * math.pi * sig**2)              # (S,)
    out = []
    for start in range(0, len(x), chunk):
        sq = _sq_dists(x[start:start + chunk], centres)                                  # (c, n)
        lse = torch.logsumexp(-sq[None] / (2 * sig[:, None, None] ** 2), dim=2)        # (S, c)
        out.append(lse + const[:, None])
    return torch.cat(out, dim=1)


def parzen_evaluate(samples: torch.Tensor, valid: torch.Tensor, test: torch.Tensor, sigmas=PARZEN_SIGMAS) -> dict:
    """The paper's protocol (Sec. 5, Table 1): sigma chosen by the mean log-likelihood of `valid`,
    then the mean log-likelihood of `test` in nats, with the standard error of the mean."""
    valid_ll = parzen_log_likelihood(samples, valid, sigmas).mean(1)
    best = int(valid_ll.argmax())
    test_ll = parzen_log_likelihood(samples, test, [sigmas[best]])[0]
    return {"sigma": sigmas[best], "mean": float(test_ll.mean()),
            "sem": float(test_ll.std() / math.sqrt(len(test_ll))),
            "valid_by_sigma": {f"{s:.4f}": float(v) for s, v in zip(sigmas, valid_ll)},
            "n_centres": len(samples), "n_test": len(test)}


# ---------------------------------------------------------------- classifier-based metrics
def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussian fits of two feature sets.

    tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2),
    a symmetric PSD matrix, so `eigh` suffices (no scipy.linalg.sqrtm)."""
    a, b = a.double(), b.double()
    mu = (a.mean(0) - b.mean(0)).square().sum()
    sa, sb = torch.cov(a.T), torch.cov(b.T)
    ev, vec = torch.linalg.eigh(sa)
    root_a = vec @ torch.diag(ev.clamp_min(0).sqrt()) @ vec.T
    cross = torch.linalg.eigvalsh(root_a @ sb @ root_a).clamp_min(0).sqrt().sum()
    return float(mu + torch.trace(sa) + torch.trace(sb) - 2 * cross)


def class_histogram_metrics(probs: torch.Tensor, min_share: float = 0.01) -> dict:
    """From p(y|x) of n samples (n, K): classes covered (a class counts if at least `min_share` of
    the argmax predictions fall in it, so a few stray samples do not count), KL of the predicted
    class histogram to uniform, and the classifier score exp E_x[KL(p(y|x) || p(y))]."""
    probs = probs.double()
    k = probs.shape[1]
    hist = torch.bincount(probs.argmax(1), minlength=k).double() / len(probs)
    nz = hist > 0
    kl_uniform = float((hist[nz] * (hist[nz] * k).log()).sum())
    p_y = probs.mean(0)
    kl = (probs * (probs.clamp_min(1e-12).log() - p_y.clamp_min(1e-12).log())).sum(1)
    return {"classes_covered": int((hist >= min_share).sum()), "class_kl_to_uniform": kl_uniform,
            "classifier_score": float(kl.mean().exp()), "class_histogram": [round(float(h), 4) for h in hist]}


# ---------------------------------------------------------------- known densities (Theorem 1)
def value_at_optimum(log_pdata: torch.Tensor, log_pg: torch.Tensor, dx: float) -> float:
    """C(G) = max_D V(D, G) = V(D*, G), by quadrature on a uniform grid of spacing dx."""
    pd, pg = log_pdata.double().exp(), log_pg.double().exp()
    d_star = optimal_discriminator(log_pdata.double(), log_pg.double())
    return float(((pd * torch.log(d_star.clamp_min(1e-300))) + pg * torch.log((1 - d_star).clamp_min(1e-300))).sum() * dx)


def jensen_shannon(log_p: torch.Tensor, log_q: torch.Tensor, dx: float) -> float:
    """JSD(p || q) in nats, by quadrature: (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2."""
    log_p, log_q = log_p.double(), log_q.double()
    log_m = torch.logaddexp(log_p, log_q) - math.log(2)
    kl = lambda a: float((a.exp() * (a - log_m)).sum() * dx)  # noqa: E731
    return 0.5 * (kl(log_p) + kl(log_q))
