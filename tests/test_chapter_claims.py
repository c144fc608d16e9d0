"""What the pages say about the chapter's own class, checked against a re-implementation of it.

``ChaptersNetwork`` below redoes, in our own code, exactly the steps the chapter's
``NeuralNetwork`` takes where the pages describe its behaviour: it samples the active nodes among
the real (non-bias) nodes only, slices ``wih[:, inputs][hidden]`` and ``who[:, hidden]``, appends
the bias value to the input and hidden vectors in ``train_single``, and walks the data in steps of
``int(len / no_of_dropout_tests)`` in ``train``. It exists only to pin the pages' statements
(numpy-steps.md, network-class.md) to what that code does; ``dropout_py.NeuralNetwork`` is the
fixed class the pages use.
"""

import numpy as np
import pytest

from dropout_py import DropoutMLP, NeuralNetwork


class ChaptersNetwork:
    """The chapter's slicing and training loop, bugs included (sigmoid, chapter's update rule)."""

    def __init__(self, n_in, n_out, n_hidden, learning_rate, bias=None, seed=0):
        self.no_of_in_nodes, self.no_of_out_nodes = n_in, n_out
        self.no_of_hidden_nodes, self.learning_rate, self.bias = n_hidden, learning_rate, bias
        self.rng = np.random.default_rng(seed)
        bias_node = 1 if bias else 0
        self.wih = self.rng.uniform(-0.5, 0.5, (n_hidden, n_in + bias_node))
        self.who = self.rng.uniform(-0.5, 0.5, (n_out, n_hidden + bias_node))
        self.trained_examples = 0

    def dropout_weight_matrices(self, active_input_percentage, active_hidden_percentage):
        self.wih_orig, self.who_orig = self.wih.copy(), self.who.copy()
        self.no_of_in_nodes_orig = self.no_of_in_nodes
        self.no_of_hidden_nodes_orig = self.no_of_hidden_nodes
        n_in = int(self.no_of_in_nodes * active_input_percentage)
        inputs = sorted(self.rng.choice(self.no_of_in_nodes, n_in, replace=False))
        n_hidden = int(self.no_of_hidden_nodes * active_hidden_percentage)
        hidden = sorted(self.rng.choice(self.no_of_hidden_nodes, n_hidden, replace=False))
        self.wih = self.wih[:, inputs][hidden]  # the bias column is not among `inputs`
        self.who = self.who[:, hidden]  # nor is the hidden bias column among `hidden`
        self.no_of_in_nodes, self.no_of_hidden_nodes = n_in, n_hidden
        return inputs, hidden

    def weight_matrices_reset(self, inputs, hidden):
        wih = self.wih_orig.copy()
        wih[np.ix_(hidden, inputs)] = self.wih
        who = self.who_orig.copy()
        who[:, hidden] = self.who
        self.wih, self.who = wih, who
        self.no_of_in_nodes = self.no_of_in_nodes_orig
        self.no_of_hidden_nodes = self.no_of_hidden_nodes_orig

    def train_single(self, input_vector, target_vector):
        if self.bias:
            input_vector = np.concatenate((input_vector, [self.bias]))
        x = np.asarray(input_vector, dtype=float).reshape(-1, 1)
        t = np.asarray(target_vector, dtype=float).reshape(-1, 1)
        hidden = 1 / (1 + np.exp(-(self.wih @ x)))  # fails here when the shapes differ
        if self.bias:
            hidden = np.concatenate((hidden, [[self.bias]]))
        out = 1 / (1 + np.exp(-(self.who @ hidden)))
        error = t - out
        self.who += self.learning_rate * (error * out * (1 - out)) @ hidden.T
        hidden_error = self.who.T @ error
        if self.bias:
            hidden, hidden_error = hidden[:-1], hidden_error[:-1]
        self.wih += self.learning_rate * (hidden_error * hidden * (1 - hidden)) @ x.T
        self.trained_examples += 1

    def train(self, data, targets, epochs=1, active_input_percentage=0.7,
              active_hidden_percentage=0.7, no_of_dropout_tests=10):  # fmt: skip
        partition_length = int(len(data) / no_of_dropout_tests)
        for _ in range(epochs):
            for start in range(0, len(data), partition_length):
                inputs, hidden = self.dropout_weight_matrices(
                    active_input_percentage, active_hidden_percentage
                )
                for i in range(start, start + partition_length):
                    self.train_single(data[i][inputs], targets[i])
                self.weight_matrices_reset(inputs, hidden)


def toy_data(n, n_in=6, n_out=3, seed=1):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_out, n)
    targets = np.full((n, n_out), 0.01)
    targets[np.arange(n), labels] = 0.99
    return rng.uniform(0.01, 1, (n, n_in)), targets, labels


def test_the_re_implementation_trains_without_bias_and_with_a_whole_number_of_parts():
    data, targets, _ = toy_data(100)
    net = ChaptersNetwork(6, 3, 5, 0.1)
    before = net.wih.copy()
    net.train(data, targets, active_input_percentage=0.7, active_hidden_percentage=0.6)
    assert net.trained_examples == 100
    assert net.wih.shape == (5, 6) and not np.allclose(net.wih, before)


@pytest.mark.parametrize("percentages", [(1, 1), (0.7, 0.7)])
def test_with_a_bias_the_chapters_train_fails_on_the_first_example(percentages):
    """numpy-steps.md / network-class.md: the bias column is always cut away, so shapes break."""
    data, targets, _ = toy_data(100)
    net = ChaptersNetwork(6, 3, 5, 0.1, bias=1)
    with pytest.raises(ValueError, match="mismatch|not aligned"):
        net.train(data, targets, *(1, *percentages))
    assert net.trained_examples == 0


def test_with_a_bias_the_thinned_wih_has_lost_its_bias_column_even_at_percentage_1():
    net = ChaptersNetwork(6, 3, 5, 0.1, bias=1)
    assert net.wih.shape == (5, 7)
    net.dropout_weight_matrices(1, 1)
    assert net.wih.shape == (5, 6) and net.who.shape == (3, 5)


def test_the_chapters_partition_loop_raises_index_error_when_parts_do_not_divide_the_data():
    """network-class.md: with 103 examples and 10 parts the last walk indexes past the end."""
    data, targets, _ = toy_data(103)
    net = ChaptersNetwork(6, 3, 5, 0.1)
    with pytest.raises(IndexError):
        net.train(data, targets, 1, 1, 1, 10)
    # ten parts of 10, then an 11th starting at 100: it trains 100-102 and fails at index 103
    assert net.trained_examples == 103


def test_our_class_trains_with_a_bias_and_uses_every_example():
    data, targets, _ = toy_data(103)
    seen = []
    nn = NeuralNetwork(6, 3, 5, 0.1, bias=1, seed=0)
    nn.train(data, targets, epochs=1, active_input_percentage=1, active_hidden_percentage=1,
             no_of_dropout_tests=10, callback=seen.append)  # fmt: skip
    assert nn.wih.shape == (5, 7)
    inputs, hidden = nn.dropout_weight_matrices(0.5, 0.6)
    assert nn.wih.shape == (len(hidden), len(inputs) + 1)  # the bias column stays
    nn.weight_matrices_reset(inputs, hidden)
    steps = [e for e in seen if e.kind == "step"]
    assert len(steps) == 11  # ten parts of 10 and one of 3


def test_inverted_dropout_steps_differ_from_test_time_scaling_by_one_over_p_squared():
    """fast-trainer.md: same expected input, but a 1/p**2 larger step on the weights after a
    dropped layer (inverted weights W standing for p times the paper's weights)."""
    p = 0.5
    rng = np.random.default_rng(3)
    x, targets = rng.random((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]
    mask = (rng.random((8, 5)) < p).astype(float)  # one fixed 0/1 mask of the hidden layer
    inverted = DropoutMLP((6, 5, 3), dtype="float64", seed=0)
    paper = DropoutMLP((6, 5, 3), dtype="float64", seed=0)
    paper.weights_[1] = inverted.weights_[1] / p  # the paper's weights; p * them at test time
    inv, pap = (
        inverted.gradients(x, targets, [None, mask / p]),
        paper.gradients(x, targets, [None, mask]),
    )
    (g0_inv, g1_inv), (g0_paper, g1_paper) = inv.weights, pap.weights
    assert inv.loss == pytest.approx(pap.loss)  # the same forward pass
    np.testing.assert_allclose(g0_inv, g0_paper)  # the same error reaches the first layer
    step_inverted = g1_inv  # a step of lr * gradient on W
    step_paper_on_w = p * g1_paper  # the paper's step on W', seen on W = p * W'
    np.testing.assert_allclose(step_inverted, step_paper_on_w / p**2)
