"""torch.ops.lovasz.loss is a real operator: torch.compile(fullgraph=True), torch.func.grad,
opcheck, one backward only, the saved gradient freed, criteria that pickle and deep-copy."""

import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lovasz  # noqa: E402
from lovasz.torch import LovaszHinge, LovaszLoss, LovaszSoftmax, lovasz_softmax  # noqa: E402


def problem(seed=0, shape=(2, 3, 6, 7)):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(shape, generator=generator)
    labels = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=generator)
    labels[0, 0] = 255
    return scores, labels


def test_the_operator_passes_opcheck(engine):
    scores, labels = problem()
    arguments = (scores.requires_grad_(), labels, None, "softmax", "present", None, "weighted", False, False,
                 255, False, "logits", "cpu", True)
    torch.library.opcheck(torch.ops.lovasz.loss.default, arguments)


def test_torch_compile_fullgraph_matches_eager(engine):
    scores, labels = problem()
    criterion = LovaszLoss("multiclass", ignore_index=255, per_image=True, engine=engine)

    def step(x, y):
        return criterion(x * 2.0, y) + 0.5 * lovasz_softmax(x, y, ignore_index=255, engine=engine)

    eager_input = scores.clone().requires_grad_()
    eager = step(eager_input, labels)
    eager.backward()
    torch._dynamo.reset()
    compiled_step = torch.compile(step, fullgraph=True, backend="aot_eager")
    compiled_input = scores.clone().requires_grad_()
    compiled = compiled_step(compiled_input, labels)
    compiled.backward()
    torch.testing.assert_close(compiled, eager, rtol=0, atol=0)
    torch.testing.assert_close(compiled_input.grad, eager_input.grad, rtol=0, atol=0)


def test_torch_compile_has_no_graph_break(engine):
    scores, labels = problem()
    criterion = LovaszLoss("binary", per_image=True, symmetric=True, engine=engine)
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(lambda x, y: criterion(x, y))(scores[:, 0], labels % 2)
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1


def test_torch_func_grad_matches_backward(engine):
    scores, labels = problem()
    gradient = torch.func.grad(lambda x: lovasz_softmax(x, labels, ignore_index=255, engine=engine))(scores)
    leaf = scores.clone().requires_grad_()
    lovasz_softmax(leaf, labels, ignore_index=255, engine=engine).backward()
    torch.testing.assert_close(gradient, leaf.grad, rtol=0, atol=0)
    _, expected = lovasz.softmax(scores.numpy(), labels.numpy(), ignore_index=255, engine=engine)
    np.testing.assert_array_equal(gradient.numpy(), expected)


def test_a_second_backward_raises_and_retain_graph_allows_it(engine):
    scores, labels = problem()
    leaf = scores.clone().requires_grad_()
    loss = lovasz_softmax(leaf, labels, ignore_index=255, engine=engine)
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    other = scores.clone().requires_grad_()
    loss = lovasz_softmax(other, labels, ignore_index=255, engine=engine)
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(other.grad, 2 * leaf.grad)


def test_the_saved_gradient_is_freed_by_backward(engine):
    scores, labels = problem()
    leaf = scores.clone().requires_grad_()
    saved = []

    def pack(tensor):
        saved.append(weakref.ref(tensor))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = lovasz_softmax(leaf, labels, ignore_index=255, engine=engine)
    assert len(saved) == 1 and saved[0]() is not None and saved[0]().shape == scores.shape
    loss.backward()
    gc.collect()
    assert saved[0]() is None


def test_no_gradient_is_computed_without_autograd(engine):
    scores, labels = problem()
    with torch.no_grad():
        value = lovasz_softmax(scores.requires_grad_(), labels, ignore_index=255, engine=engine)
    assert not value.requires_grad
    value, grad = torch.ops.lovasz.loss(scores.detach(), labels, None, "softmax", "present", None, "weighted",
                                        False, False, 255, False, "logits", "cpu", False)
    assert grad.numel() == 0 and value.dtype == torch.float32


@pytest.mark.parametrize("make", [
    lambda engine: LovaszLoss("multiclass", per_image=True, ignore_index=255, engine=engine),
    lambda engine: LovaszSoftmax(ignore_index=255, engine=engine),
    lambda engine: LovaszHinge(engine=lovasz.Engine("cpu")),
])
def test_criteria_pickle_and_deep_copy_with_their_engine(engine, make):
    criterion = make(engine)
    scores, labels = problem()
    labels = labels if not isinstance(criterion, LovaszHinge) else (labels % 2)[:, None]
    scores = scores if not isinstance(criterion, LovaszHinge) else scores[:, :1]
    expected = criterion(scores, labels)
    for clone in (pickle.loads(pickle.dumps(criterion)), copy.deepcopy(criterion)):
        assert clone._engine is None and clone.engine_spec == "cpu"  # made again on first use
        torch.testing.assert_close(clone(scores, labels), expected, rtol=0, atol=0)


def test_engines_pickle_by_backend_and_device():
    original = lovasz.Engine("cpu")
    clone = pickle.loads(pickle.dumps(original))
    assert clone.backend == "cpu" and clone.spec == "cpu" and clone._handle != original._handle
    assert copy.deepcopy(original).backend == "cpu"


def test_torch_func_vmap_and_per_sample_gradients(engine):
    generator = torch.Generator().manual_seed(4)
    scores = torch.randn(3, 2, 4, 5, 6, generator=generator)  # 3 problems of [2, 4, 5, 6]
    labels = torch.randint(0, 4, (3, 2, 5, 6), generator=generator)

    def loss(s, y):
        return lovasz_softmax(s, y, engine=engine)

    values = torch.func.vmap(loss)(scores, labels)
    torch.testing.assert_close(values, torch.stack([loss(scores[i], labels[i]) for i in range(3)]), rtol=0, atol=0)
    shared = torch.func.vmap(loss, in_dims=(0, None))(scores, labels[0])
    torch.testing.assert_close(shared[1], loss(scores[1], labels[0]), rtol=0, atol=0)
    per_sample = torch.func.vmap(torch.func.grad(loss))(scores, labels)
    expected = torch.stack([torch.func.grad(loss)(scores[i], labels[i]) for i in range(3)])
    torch.testing.assert_close(per_sample, expected, rtol=0, atol=0)
