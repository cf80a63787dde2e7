"""Mixed precision: float16 and bfloat16 scores get the gradients of float32 scores of the same
values, multiplied by grad_output (the loss scale) in float32 and rounded once; the loss is
float32, with autocast and GradScaler as with plain calls."""

import pytest

torch = pytest.importorskip("torch")

from lovasz.torch import LovaszLoss, lovasz_hinge, lovasz_softmax  # noqa: E402

HALF_TYPES = [torch.float16, torch.bfloat16]


def problem(dtype, shape=(2, 4, 48, 48), seed=0):
    """Scores exactly representable in `dtype` (as float32 and as `dtype`) and labels."""
    generator = torch.Generator().manual_seed(seed)
    scores = (3 * torch.randn(shape, generator=generator)).to(dtype).to(torch.float32)
    labels = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=generator)
    labels[:, :3] = 255
    return scores, labels


@pytest.mark.parametrize("dtype", HALF_TYPES)
@pytest.mark.parametrize("scale", [1.0, 2.0**-8, 2.0**16, 2.0**24])
def test_half_gradient_is_the_float32_gradient_rounded_once(engine, dtype, scale):
    scores, labels = problem(dtype)
    exact = scores.clone().requires_grad_()
    (lovasz_softmax(exact, labels, ignore_index=255, engine=engine) * scale).backward()
    half = scores.to(dtype).requires_grad_()
    loss = lovasz_softmax(half, labels, ignore_index=255, engine=engine)
    assert loss.dtype == torch.float32
    (loss * scale).backward()
    assert half.grad.dtype == dtype
    expected = exact.grad.to(dtype)
    assert torch.equal(half.grad, expected)


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_binary_modes_keep_float32_gradients(engine, dtype):
    scores, _ = problem(dtype, shape=(2, 1, 32, 32))
    labels = (torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(3)) > 0.5).to(torch.uint8)
    for criterion in (LovaszLoss("binary", per_image=True, engine=engine),
                      LovaszLoss("binary", symmetric=True, engine=engine),
                      LovaszLoss("multilabel", reduction="sum", engine=engine)):
        exact = scores.clone().requires_grad_()
        (criterion(exact, labels) * 2.0**16).backward()
        half = scores.to(dtype).requires_grad_()
        loss = criterion(half, labels)
        assert loss.dtype == torch.float32
        (loss * 2.0**16).backward()
        assert torch.equal(half.grad, exact.grad.to(dtype)), criterion


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_autocast_and_grad_scaler_match_float32_scores(engine, dtype):
    """A convolution under autocast: the weight gradient through lovasz equals the one through
    float32 scores of the same values, and the scaled loss does not overflow."""
    torch.manual_seed(0)
    images = torch.randn(2, 3, 24, 24)
    labels = torch.randint(0, 5, (2, 24, 24))
    criterion = LovaszLoss("multiclass", engine=engine)
    gradients = []
    for through_float32 in (False, True):
        model = torch.nn.Conv2d(3, 5, 3, padding=1)
        torch.nn.init.constant_(model.bias, 0.0)
        with torch.no_grad():
            model.weight.copy_(torch.linspace(-0.5, 0.5, model.weight.numel()).reshape(model.weight.shape))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
        with torch.autocast("cpu", dtype=dtype):
            logits = model(images)
            assert logits.dtype == dtype
            loss = criterion(logits.float() if through_float32 else logits, labels)
        assert loss.dtype == torch.float32
        scaled = scaler.scale(loss)
        assert torch.isfinite(scaled)
        scaled.backward()
        scaler.unscale_(optimizer)
        gradients.append(model.weight.grad.clone())
        scaler.step(optimizer)
        scaler.update()
        assert scaler.get_scale() == 2.0**16  # no inf/NaN step was skipped
    torch.testing.assert_close(gradients[0], gradients[1], rtol=0, atol=0)


def test_float64_scores_compute_in_float32_and_return_float64_gradients(engine):
    scores, labels = problem(torch.float32, shape=(1, 3, 8, 8))
    double = scores.double().requires_grad_()
    loss = lovasz_hinge(double[:, 0], (labels > 0).to(torch.uint8), engine=engine)
    assert loss.dtype == torch.float32
    loss.backward()
    assert double.grad.dtype == torch.float64
