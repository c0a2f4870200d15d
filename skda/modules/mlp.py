"""The default backbone: a ReLU multilayer perceptron, as in ``MLPClassifier``."""

from torch import nn


class MLP(nn.Sequential):
    """Fully connected ReLU network.

    Parameters
    ----------
    n_features_in : int
        Width of the input.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer. Every hidden layer is followed by a ReLU.
        An empty tuple gives the identity map.
    n_outputs : int or None, default=None
        If given, a final linear layer (no activation) of this width is added,
        which turns the network into a head that returns logits.
    dropout : float, default=0.0
        Dropout probability after each hidden layer's ReLU (0: none).

    Attributes
    ----------
    n_features_out : int
        Width of the output.
    """

    def __init__(self, n_features_in, hidden_layer_sizes=(100,), n_outputs=None, dropout=0.0):
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        layers = []
        width = n_features_in
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        if n_outputs is not None:
            layers.append(nn.Linear(width, n_outputs))
            width = n_outputs
        super().__init__(*layers)
        self.n_features_out = width
