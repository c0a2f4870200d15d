"""DomainNet: the per-epoch terms, the contract with the methods, the skorch it relies on."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from skda.engine import DomainAlgorithm, update


def test_epoch_terms_are_batch_means(moons_uda):
    """train_domain_acc in the history is the mean of the per-batch accuracies."""
    from skorch.callbacks import Callback

    from skda import DANNClassifier

    per_batch = []

    class Spy(Callback):
        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            X, _, d = batch
            with torch.no_grad():
                z = net.module_.featurizer(X)
                acc = (net.module_.discriminator(z).argmax(1) == d).float().mean()
            per_batch.append(acc.item())

    X, y, d = moons_uda
    # a tiny lr: the weights barely move between the step and the spy's read; the weight
    # decay given, so that no ERM (which has no discriminator for the spy) trains to choose it
    clf = DANNClassifier(max_epochs=1, batch_size=50, hidden_layer_sizes=(8,), lr=1e-12,
                         lambda_=1.0, callbacks=[Spy()], random_state=0,
                         optimizer__weight_decay=3e-3).fit(X, y, domains=d)
    assert np.isclose(clf.net_.history[-1, "train_domain_acc"], np.mean(per_batch))


# -- the contract between the engine and the methods ---------------------------------------


def test_engine_imports_nothing_from_the_methods():
    """The engine owns the contract; methods build on it, never the other way round."""
    import ast
    from pathlib import Path

    import skda.engine

    for path in Path(skda.engine.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert "methods" not in module, f"{path.name} imports {module}"


def test_forward_is_prediction_only():
    """forward(X) gives logits; the training loss has its own entry point."""
    import inspect

    from skda.engine import DomainAlgorithm
    from skda.methods import CCSA, DANN, ERM, SagNet

    for cls in (DomainAlgorithm, ERM, DANN, CCSA, SagNet):
        assert list(inspect.signature(cls.forward).parameters) == ["self", "X"], cls


def test_a_method_without_a_loss_says_what_to_implement():
    from skda.engine import DomainAlgorithm

    algorithm = DomainAlgorithm(torch.nn.Identity(), 2, 2)
    X, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)
    with pytest.raises(NotImplementedError, match="must implement training_loss"):
        algorithm.training_loss(X, y, y, None)
    assert algorithm(X).shape == (4, 2)


def test_training_objective_shares_the_parameters_and_computes_the_loss(moons_uda):
    from skda.engine import TrainingObjective, algorithm_of
    from skda.methods import ERM
    from skda.modules import MLP, MaskedCrossEntropy

    algorithm = ERM(MLP(2, (4,)), 4, 2)
    objective = TrainingObjective(algorithm)
    assert {id(p) for p in objective.parameters()} == {id(p) for p in algorithm.parameters()}
    X, y = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, -1, -1])
    loss, terms = objective(X, y, torch.zeros(6, dtype=torch.long), MaskedCrossEntropy())
    torch.testing.assert_close(loss, MaskedCrossEntropy()(algorithm(X), y))
    assert terms == {}

    class Net:  # what algorithm_of reads: the net's module_
        module_ = objective

    assert algorithm_of(Net) is algorithm


# -- the skorch internals DomainNet relies on ----------------------------------------------

#: skorch methods DomainNet and AcceleratedDomainNet override or call, with the arguments
#: they are written against. A skorch release that changes one of these fails here first,
#: naming what to look at before the skorch bound in setup.py is raised.
SKORCH_INTERNALS = {
    "NeuralNet.notify": ["self", "method_name", "cb_kwargs"],
    "NeuralNet.run_single_epoch": ["self", "iterator", "training", "prefix", "step_fn",
                                   "fit_params"],
    "NeuralNet.get_iterator": ["self", "dataset", "training"],
    "NeuralNet.get_dataset": ["self", "X", "y"],
    "NeuralNet.initialize_optimizer": ["self", "triggered_directly"],
    "NeuralNet.get_params_for_optimizer": ["self", "prefix", "named_parameters"],
    "NeuralNet.train_step": ["self", "batch", "fit_params"],
    "NeuralNet.train_step_single": ["self", "batch", "fit_params"],
    "NeuralNet._set_training": ["self", "training"],
    "AccelerateMixin._initialize_accelerator": ["self"],
    "AccelerateMixin._unwrap_accelerator": ["self"],
    "AccelerateMixin.on_train_end": ["self", "net", "X", "y", "kwargs"],
}


@pytest.mark.parametrize("name, expected", SKORCH_INTERNALS.items())
def test_skorch_internals_keep_their_signatures(name, expected):
    import inspect

    import skorch

    owner, method = name.split(".")
    if owner == "AccelerateMixin":
        hf = pytest.importorskip("skorch.hf")
        cls = hf.AccelerateMixin
    else:
        cls = skorch.NeuralNet
    assert list(inspect.signature(getattr(cls, method)).parameters) == expected, (
        f"skorch {skorch.__version__} changed {name}")


def test_skorch_attributes_domain_net_reads(moons_uda):
    from skda import ERMClassifier

    X, y, d = moons_uda
    net = ERMClassifier(hidden_layer_sizes=(4,), max_epochs=1, random_state=0).fit(
        X, y, domains=d).net_
    # read or extended by DomainNet: the registered prefixes and criteria, the history rows
    assert "module" in net.prefixes_ and "optimizer" in net.prefixes_
    assert net._criteria == ["criterion"]
    assert isinstance(net.history[-1]["batches"], list)


def test_the_algorithm_pickles_once_with_the_device_dependent_attributes(moons_uda):
    # skorch uses a module instance as it is: `module` and `module_` are one object. Pickled
    # apart from `module_` (skorch's device-dependent attributes, loaded with a map_location),
    # a CUDA-trained model would not load on a machine without CUDA, and its weights would
    # be stored twice
    import pickle

    from skda import ERMClassifier

    X, y, d = moons_uda
    clf = ERMClassifier(hidden_layer_sizes=(64, 64), max_epochs=1, random_state=0,
                        optimizer__weight_decay=0.0).fit(X, y, domains=d)
    assert clf.net_.module is clf.net_.module_
    state = clf.net_.__getstate__()
    assert "module" not in state and "module_" not in state
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.net_.module is loaded.net_.module_
    n_bytes = 4 * sum(p.numel() for p in clf.net_.module_.parameters())
    assert len(pickle.dumps(clf)) < 1.5 * n_bytes + 200_000
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_installed_skorch_is_in_the_declared_range():
    from importlib.metadata import PackageNotFoundError, requires, version

    Requirement = pytest.importorskip("packaging.requirements").Requirement

    try:
        declared = [Requirement(r) for r in requires("skda") or []]
    except PackageNotFoundError:
        pytest.skip("skda is not installed (run from a source tree)")
    (skorch,) = [r for r in declared if r.name == "skorch"]
    assert skorch.specifier, "the skorch requirement must be bounded"
    assert skorch.specifier.contains(version("skorch")), (version("skorch"), skorch.specifier)


# -- Ctrl-C stops the caller ---------------------------------------------------------------


class _CtrlC(Callback):
    """Presses Ctrl-C (a real SIGINT) at the end of epoch 2."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def sigint_disposition():
    """Set SIGINT's handler for one test and restore whatever it was.

    A test run started in the background (``nohup pytest &``, many CI
    runners) begins with SIGINT ignored; the tests set the disposition they
    are about instead of assuming Python's default.
    """
    import signal

    previous = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def default_sigint(sigint_disposition):
    import signal

    sigint_disposition(signal.default_int_handler)


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_during_fit_stops_the_caller(moons_uda):
    from skda import DANNClassifier

    X, y, d = moons_uda
    clf = DANNClassifier(hidden_layer_sizes=(4,), max_epochs=50, random_state=0, lambda_=1.0,
                         callbacks=[_CtrlC()])
    with pytest.raises(KeyboardInterrupt, match="interrupted"):
        clf.fit(X, y, domains=d)
    assert not hasattr(clf, "net_")  # never looks fitted


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_stops_a_grid_search_instead_of_scoring_a_half_trained_model(multi_domain):
    from sklearn.model_selection import GridSearchCV

    from skda import ERMClassifier

    X, y, d = multi_domain
    search = GridSearchCV(ERMClassifier(hidden_layer_sizes=(4,), max_epochs=50, random_state=0,
                                        callbacks=[_CtrlC()]), {"lr": [1e-3, 1e-2]}, cv=2)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y, domains=d)


def test_a_caller_that_ignores_ctrl_c_trains_to_the_end(moons_uda, sigint_disposition):
    import signal

    from skda import ERMClassifier

    sigint_disposition(signal.SIG_IGN)
    X, y, d = moons_uda
    clf = ERMClassifier(hidden_layer_sizes=(4,), max_epochs=4, random_state=0,
                        callbacks=[_CtrlC()]).fit(X, y, domains=d)
    assert clf.n_iter_ == 4
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_callbacks_that_stop_training_still_end_the_fit_quietly(moons_uda):
    from skda import ERMClassifier

    class StopAtTwo(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt  # skorch's way of stopping early

    X, y, d = moons_uda
    clf = ERMClassifier(hidden_layer_sizes=(4,), max_epochs=50, random_state=0,
                        callbacks=[StopAtTwo()]).fit(X, y, domains=d)
    assert clf.n_iter_ == 2


class _TwoParts(DomainAlgorithm):
    def __init__(self):
        super().__init__(nn.Linear(3, 4), 4, 2)
        self.extra = nn.Linear(4, 4)


def test_groups_by_prefix_refuses_parameters_left_without_an_optimizer():
    algorithm = _TwoParts()
    groups = algorithm.groups_by_prefix({"a": ("featurizer", "classifier"), "b": ("extra",)})
    assert {name: len(params) for name, params in groups.items()} == {"a": 4, "b": 2}
    with pytest.raises(ValueError, match=r"leaves parameters without an optimizer: "
                                         r"\['extra.weight', 'extra.bias'\]"):
        algorithm.groups_by_prefix({"a": ("featurizer", "classifier")})


def test_update_steps_only_the_named_groups():
    algorithm = _TwoParts()
    groups = algorithm.groups_by_prefix({"a": ("featurizer", "classifier"), "b": ("extra",)})
    optimizers = {name: torch.optim.SGD([p for _, p in params], lr=0.1)
                  for name, params in groups.items()}
    before = {name: [p.detach().clone() for _, p in params] for name, params in groups.items()}
    X = torch.randn(5, 3)
    update(algorithm.extra(algorithm.featurizer(X)).sum(), optimizers, "b")
    for name, params in groups.items():
        moved = [not torch.equal(p, old) for (_, p), old in zip(params, before[name], strict=True)]
        assert all(moved) if name == "b" else not any(moved)


def test_the_training_sampler_is_public_during_fit_only(moons_uda):
    """Callbacks find net.train_batches_ (and the steps per epoch) from on_train_begin on."""
    from skda import ERMClassifier
    from skda.engine import BalancedBatches

    seen = {}

    class Spy(Callback):
        def on_train_begin(self, net, **kwargs):
            seen["begin"] = (net.train_batches_, net.train_steps_per_epoch_)

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                seen.setdefault("weights", batch.weights)

    X, y, d = moons_uda
    labeled = y >= 0
    weight = np.where(np.arange(len(X)) % 2 == 0, 1.0, 3.0)[labeled]
    clf = ERMClassifier(max_epochs=1, batch_size=50, hidden_layer_sizes=(8,), callbacks=[Spy()],
                        random_state=0, optimizer__weight_decay=3e-3).fit(
        X[labeled], y[labeled], domains=d[labeled], sample_weight=weight)
    batches, steps = seen["begin"]
    assert isinstance(batches, BalancedBatches) and steps == batches.steps > 0
    assert clf.net_.train_batches_ is None  # the fitted net keeps none of the rows
    assert clf.net_.train_steps_per_epoch_ == steps
    assert seen["weights"] is not None and len(torch.unique(seen["weights"])) == 2


def test_partial_fit_trains_from_the_fitted_weights(moons_uda):
    from skda import ERMClassifier
    from skda.engine import DomainData

    X, y, d = moons_uda
    labeled = y >= 0
    clf = ERMClassifier(max_epochs=1, batch_size=50, hidden_layer_sizes=(8,), input_scaling=None,
                        random_state=0, optimizer__weight_decay=3e-3).fit(
        X[labeled], y[labeled], domains=d[labeled])
    net = clf.net_
    before = [p.detach().clone() for p in net.module_.parameters()]
    n = int(labeled.sum())
    data = DomainData(torch.as_tensor(X[labeled], dtype=torch.float32),
                      torch.as_tensor(y[labeled]), torch.zeros(n, dtype=torch.long))
    net.partial_fit(data)
    assert len(net.history) == 2 and net.history[-1, "train_loss"] is not None
    assert any(not torch.equal(a, p) for a, p in zip(before, net.module_.parameters(), strict=True))
    assert net.train_batches_ is None
