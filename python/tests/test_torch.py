"""The PyTorch wrappers: forward equals the NumPy binding, backward gives its gradient."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lovasz  # noqa: E402
from lovasz.torch import (  # noqa: E402
    LovaszHinge, LovaszSigmoid, LovaszSoftmax, lovasz_hinge, lovasz_sigmoid, lovasz_softmax)
from reference import reference  # noqa: E402

RNG = np.random.default_rng(11)
LOGITS = RNG.normal(size=(2, 4, 5, 6)).astype(np.float32)
LABELS = RNG.integers(0, 4, size=(2, 5, 6))
LABELS[1, 0] = 255


def test_softmax_module_forward_and_backward(engine):
    scores = torch.tensor(LOGITS, requires_grad=True)
    criterion = LovaszSoftmax(ignore_index=255, classes="all", engine=engine)
    loss = criterion(scores, torch.from_numpy(LABELS))
    loss.backward()
    expected, expected_grad = lovasz.softmax(LOGITS, LABELS, ignore_index=255, classes="all", engine=engine)
    assert loss.dim() == 0 and loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(scores.grad.numpy(), expected_grad)
    reference_loss, reference_grad = reference("softmax", LOGITS, LABELS, ignore_index=255, classes="all")
    assert loss.item() == pytest.approx(reference_loss, rel=1e-5)
    np.testing.assert_allclose(scores.grad.numpy(), reference_grad, atol=1e-6)


def test_backward_scales_by_the_upstream_gradient(engine):
    scores = torch.tensor(LOGITS, requires_grad=True)
    labels = torch.from_numpy(LABELS)
    (3.0 * lovasz_softmax(scores, labels, ignore_index=255, engine=engine)).backward()
    _, grad = lovasz.softmax(LOGITS, LABELS, ignore_index=255, engine=engine)
    np.testing.assert_allclose(scores.grad.numpy(), 3.0 * grad, rtol=1e-6)


def test_options_reach_the_loss(engine):
    scores, labels = torch.from_numpy(LOGITS), torch.from_numpy(LABELS)
    weights = torch.tensor([1.0, 2.0, 0.5, 1.0])
    for options in ({"per_image": True}, {"classes": [0, 2]}, {"class_weights": weights}):
        value = lovasz_softmax(scores, labels, ignore_index=255, engine=engine, **options).item()
        numpy_options = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in options.items()}
        expected = lovasz.softmax(LOGITS, LABELS, ignore_index=255, engine=engine, **numpy_options)[0]
        assert value == pytest.approx(expected, rel=1e-6)
        assert value != pytest.approx(lovasz_softmax(scores, labels, ignore_index=255, engine=engine).item())


@pytest.mark.parametrize("module, function, numpy_loss", [
    (LovaszHinge, lovasz_hinge, lovasz.hinge),
    (LovaszSigmoid, lovasz_sigmoid, lovasz.sigmoid),
])
def test_binary_losses(engine, module, function, numpy_loss):
    logits = LOGITS[:, :1]
    labels = (LABELS[:, None] % 2).astype(np.float32)  # float masks, as binary training code has
    scores = torch.tensor(logits, requires_grad=True)
    loss = module(engine=engine)(scores, torch.from_numpy(labels))
    loss.backward()
    expected, expected_grad = numpy_loss(logits, labels, engine=engine)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(scores.grad.numpy(), expected_grad)
    assert function(torch.from_numpy(logits), torch.from_numpy(labels), per_image=False, engine=engine).item() \
        == pytest.approx(numpy_loss(logits, labels, per_image=False, engine=engine)[0], rel=1e-6)


def test_half_precision_and_no_grad(engine):
    scores = torch.tensor(LOGITS, dtype=torch.float16, requires_grad=True)
    loss = lovasz_softmax(scores, torch.from_numpy(LABELS), ignore_index=255, engine=engine)
    loss.backward()
    assert loss.dtype == torch.float32 and scores.grad.dtype == torch.float16  # float32 loss, as under autocast
    with torch.no_grad():
        value = lovasz_softmax(torch.from_numpy(LOGITS), torch.from_numpy(LABELS), ignore_index=255, engine=engine)
    assert not value.requires_grad


def test_errors_surface_as_lovasz_errors(engine):
    scores = torch.tensor(LOGITS, requires_grad=True)
    bad = torch.from_numpy(LABELS).clone()
    bad[0, 0, 0] = 9
    with pytest.raises(lovasz.LovaszError, match=r"label 9 at position \[0, 0, 0\]"):
        lovasz_softmax(scores, bad, ignore_index=255, engine=engine)


def test_top_level_names_are_the_torch_wrappers():
    assert lovasz.LovaszSoftmax is LovaszSoftmax
    assert lovasz.lovasz_hinge is lovasz_hinge


def test_a_few_training_steps_lower_the_loss(engine):
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 4, kernel_size=1)
    images = torch.from_numpy(RNG.normal(size=(4, 3, 8, 8)).astype(np.float32))
    # Labels a 1x1 convolution can learn: the argmax of four fixed linear functions of the pixel.
    labels = torch.einsum("kc,bchw->bkhw", torch.randn(4, 3), images).argmax(dim=1)
    criterion = LovaszSoftmax(engine=engine)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
