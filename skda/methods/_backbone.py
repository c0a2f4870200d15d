"""The backbone a method is built on, from the estimator's ``module`` parameters."""

import copy
import inspect

import torch
from torch import nn

from .._params import hidden_sizes
from ..modules import MLP, ConvNet, ResNet


def build_featurizer(module, module_params, input_shape, hidden_layer_sizes):
    """The backbone and the width of the features it returns.

    Parameters
    ----------
    module : None, str, torch.nn.Module subclass or instance
        The estimator's ``module`` (already validated); a string names a
        :class:`~skda.modules.ResNet` architecture.
    module_params : dict
        The ``module__*`` parameters, without the prefix.
    input_shape : tuple of int
        Shape of one row of X.
    hidden_layer_sizes : int or tuple of int
        Widths of the default MLP.
    """
    images = len(input_shape) > 1
    if module is None:
        if module_params:
            raise TypeError(
                f"module__* parameters {sorted(module_params)} need a `module` class (e.g. "
                "module=skda.modules.ConvNet, module__channels=(16, 32)); the default "
                "backbone takes no module__* parameters.")
        net = ConvNet(input_shape) if images else MLP(input_shape[0],
                                                      hidden_sizes(hidden_layer_sizes))
        return net, net.n_features_out
    if isinstance(module, str):  # a named architecture
        if not images:
            raise ValueError(
                f"module={module!r} is an image backbone; X is tabular (shape "
                f"{tuple(input_shape)} per row). Pass images (n_samples, channels, height, "
                "width) or leave module=None.")
        net = ResNet(module, input_shape=tuple(input_shape), **module_params)
        return net, net.n_features_out
    if isinstance(module, nn.Module):
        if module_params:
            raise TypeError(
                f"module__* parameters {sorted(module_params)} cannot be applied to a module "
                "instance; pass the module class instead.")
        featurizer = copy.deepcopy(module)
    else:
        kwargs = dict(module_params)
        accepted = inspect.signature(module).parameters
        if "n_features_in" in accepted and not images:
            kwargs.setdefault("n_features_in", input_shape[0])
        if "input_shape" in accepted:
            kwargs.setdefault("input_shape", tuple(input_shape))
        featurizer = module(**kwargs)
    return featurizer, output_width(featurizer, input_shape)


def probe_output(module, input_shape, *args, name="module"):
    """``module``'s output for a dummy batch of two inputs of ``input_shape`` (eval mode).

    ``args`` follow the batch in the call; ``name`` is the estimator parameter
    that gave the module, for the error message.
    """
    was_training = module.training
    module.eval()
    shape = (2, *input_shape)
    try:
        with torch.no_grad():
            return module(torch.zeros(shape), *args)
    except Exception as exc:
        raise ValueError(f"{name} failed on a batch of shape {shape}: {exc}") from exc
    finally:
        module.train(was_training)


def output_width(featurizer, input_shape):
    """Width of the features ``featurizer`` returns, found with a dummy batch."""
    out = probe_output(featurizer, input_shape)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(
            f"module must return a 2-D feature tensor (batch, width), got {shape}.")
    return out.shape[1]


def check_input_shaped(module, input_shape, *args, name, what):
    """Raise a ``ValueError`` unless ``module`` (given as the parameter ``name``) returns a
    batch of ``input_shape``, ``what`` saying what the output stands for."""
    out = probe_output(module, input_shape, *args, name=name)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, *input_shape):
        got = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"{name} must return {what} of the input's shape {tuple(input_shape)}, got {got}.")
