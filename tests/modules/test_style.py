"""AdaIN's style statistics and randomizations, and global pooling."""

import pytest
import torch

from skda.modules import (
    GlobalAvgPool,
    MixStyle,
    adain,
    randomize_content,
    randomize_style,
    style_statistics,
)


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


def test_global_avg_pool():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert GlobalAvgPool()(x).item() == pytest.approx(7.5)
    v = torch.randn(3, 5)
    assert GlobalAvgPool()(v) is v


def test_mixstyle_mixes_the_statistics_of_a_training_batch_and_keeps_its_content():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 5, 5) * torch.rand(8, 3, 1, 1) * 3 + torch.randn(8, 3, 1, 1)
    x.requires_grad_(True)
    layer = MixStyle(p=1.0, alpha=0.1)
    out = layer(x)
    mean, std = style_statistics(x.detach(), eps=1e-6)
    out_mean, out_std = style_statistics(out.detach(), eps=1e-6)
    assert not torch.allclose(out_mean, mean, atol=1e-3)  # the styles moved
    # each new mean lies between the sample's own mean and another sample's
    low, high = mean.min(dim=0).values, mean.max(dim=0).values
    assert torch.all(out_mean >= low - 1e-4) and torch.all(out_mean <= high + 1e-4)
    content = (x.detach() - mean.view(8, 3, 1, 1)) / std.view(8, 3, 1, 1)
    torch.testing.assert_close((out.detach() - out_mean.view(8, 3, 1, 1))
                               / out_std.view(8, 3, 1, 1), content, atol=1e-3, rtol=1e-3)
    # the statistics are constants to the backward pass: the gradient is the rescaling
    out.sum().backward()
    scale = out_std.detach() / std  # mixed std over own std, per sample and channel
    # (through the statistics, the gradient of the sum would be the mixing weights / 25)
    torch.testing.assert_close(x.grad, scale.view(8, 3, 1, 1).expand_as(x), atol=1e-2,
                               rtol=1e-2)


def test_mixstyle_passes_evaluation_batches_and_skipped_batches_through():
    x = torch.randn(4, 2, 3, 3)
    layer = MixStyle(p=1.0).eval()
    assert layer(x) is x
    assert MixStyle(p=0.0)(x) is x
