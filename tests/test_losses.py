"""Each method's loss pieces on cases small enough to compute by hand."""

import math

import pytest
import torch

from skda.modules import (
    GlobalAvgPool,
    adain,
    contrastive_alignment,
    randomize_content,
    randomize_style,
    style_statistics,
    uniform_cross_entropy,
)


def test_contrastive_alignment_of_two_known_pairs():
    # rows 0, 1 in domain 0; rows 2, 3 in domain 1. Cross-domain pairs:
    # (0,2) same class at distance 5, (1,3) same class at distance 0.5,
    # (0,3) and (1,2) different classes at distance sqrt(0.5^2 + 4^2) etc.
    z = torch.tensor([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0], [3.0, 0.5]])
    y = torch.tensor([0, 1, 0, 1])
    domains = torch.tensor([0, 0, 1, 1])
    alignment, separation = contrastive_alignment(z, y, domains, margin=1.0)
    # same-class cross-domain pairs (each counted both ways): d^2 = 25 and 0.25
    assert alignment.item() == pytest.approx((25 + 0.25) / 2)
    # different-class pairs: (0,3) at sqrt(9.25) > margin -> 0; (1,2) at 4 -> 0
    assert separation.item() == pytest.approx(0.0)
    # a larger margin makes the pair (0,3) cost (m - sqrt(9.25))^2 and (1,2) (m - 4)^2
    _, separation = contrastive_alignment(z, y, domains, margin=5.0)
    expected = ((5 - math.sqrt(9.25)) ** 2 + (5 - 4) ** 2) / 2
    assert separation.item() == pytest.approx(expected, rel=1e-5)


def test_contrastive_alignment_ignores_same_domain_and_unlabeled_pairs():
    z = torch.tensor([[0.0], [10.0], [0.0], [7.0]])
    # rows 0 and 1 share domain and class: no pair; row 3 is unlabeled
    y = torch.tensor([0, 0, 0, -1])
    domains = torch.tensor([0, 0, 1, 1])
    alignment, separation = contrastive_alignment(z, y, domains)
    assert alignment.item() == pytest.approx((0 + 100) / 2)  # pairs (0,2) and (1,2)
    assert separation.item() == 0.0  # no different-class pair at all, no NaN


def test_contrastive_alignment_gradient_is_finite_for_coincident_points():
    z = torch.zeros(4, 3, requires_grad=True)
    alignment, separation = contrastive_alignment(
        z, torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 1, 1]))
    (alignment + separation).backward()
    assert torch.isfinite(z.grad).all()


def test_adain_output_has_the_target_style():
    torch.manual_seed(0)
    content = torch.randn(4, 3, 5, 5) * 2 + 1
    target = torch.randn(4, 3, 5, 5) * 0.5 - 3
    mean, std = style_statistics(target)
    out = adain(content, mean, std)
    out_mean, out_std = style_statistics(out)
    torch.testing.assert_close(out_mean, mean, atol=1e-5, rtol=0)
    torch.testing.assert_close(out_std, std, atol=1e-4, rtol=1e-4)
    # and the content (the normalized map) is the input's
    c_mean, c_std = style_statistics(content)
    torch.testing.assert_close((out - out_mean.view(4, 3, 1, 1)) / out_std.view(4, 3, 1, 1),
                               (content - c_mean.view(4, 3, 1, 1)) / c_std.view(4, 3, 1, 1),
                               atol=1e-4, rtol=1e-4)


def test_style_statistics_of_a_vector_treat_it_as_one_channel():
    x = torch.tensor([[1.0, 3.0], [0.0, 4.0]])
    mean, std = style_statistics(x, eps=0.0)
    torch.testing.assert_close(mean.flatten(), torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(std.flatten(), torch.tensor([1.0, 2.0]))


def test_randomize_style_interpolates_between_two_samples_styles():
    torch.manual_seed(0)
    x = torch.randn(6, 2, 4, 4) * torch.arange(1, 7).view(6, 1, 1, 1)
    mean, std = style_statistics(x)
    out = randomize_style(x, alpha=1.0)
    new_mean, new_std = style_statistics(out)
    # every new mean lies between the row's own and some row's mean, per channel
    low, high = mean.min(dim=0).values, mean.max(dim=0).values
    assert ((new_mean >= low - 1e-5) & (new_mean <= high + 1e-5)).all()
    assert not torch.allclose(new_std, std)


def test_randomize_content_keeps_own_style_and_routes_gradient_through_it_only():
    torch.manual_seed(0)
    x = (torch.randn(5, 3, 4, 4) * 3 + 2).requires_grad_()
    out = randomize_content(x)
    mean, std = style_statistics(x)
    out_mean, out_std = style_statistics(out)
    torch.testing.assert_close(out_mean, mean, atol=1e-5, rtol=0)
    torch.testing.assert_close(out_std, std, atol=1e-4, rtol=1e-4)
    # The content is detached, so any loss reaches x[i] only through x[i]'s own
    # mean and std: per channel, the gradient is a + b * (x - mean(x)).
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    for grad, row in zip(x.grad.flatten(2), x.detach().flatten(2), strict=True):
        for g, v in zip(grad, row, strict=True):
            basis = torch.stack([torch.ones_like(v), v - v.mean()], dim=1)
            coef = torch.linalg.lstsq(basis, g[:, None]).solution
            torch.testing.assert_close(basis @ coef, g[:, None], atol=1e-4, rtol=1e-4)


def test_uniform_cross_entropy_is_log_k_at_uniform_predictions():
    assert uniform_cross_entropy(torch.zeros(3, 10)).item() == pytest.approx(math.log(10))
    assert uniform_cross_entropy(torch.tensor([[10.0, 0.0]])).item() > math.log(2)


def test_global_avg_pool():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert GlobalAvgPool()(x).item() == pytest.approx(7.5)
    v = torch.randn(3, 5)
    assert GlobalAvgPool()(v) is v
