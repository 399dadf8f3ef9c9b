import torch

from tasray.tas.gumbel import MASKED_LOGIT, gumbel_select, gumbel_softmax


def test_selection_is_distinct_and_weights_are_renormalised() -> None:
    logits = torch.randn(50, 8)
    sel = gumbel_select(logits, tau=1.0, k=3)
    assert sel.indices.shape == (50, 3)
    assert all(len(set(row)) == 3 for row in sel.indices.tolist())
    torch.testing.assert_close(sel.weights.sum(-1), torch.ones(50))


def test_extreme_logits_at_low_temperature_stay_finite() -> None:
    logits = torch.tensor(
        [[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, 1e4], [0.0, 0.0, MASKED_LOGIT, MASKED_LOGIT]]
    )
    logits = logits.repeat(10_000 // 3 + 1, 1)[:10_000].requires_grad_(True)
    sel = gumbel_select(logits, tau=0.1, k=2)
    sel.weights[:, 0].sum().backward()
    assert torch.isfinite(sel.weights).all() and torch.isfinite(logits.grad).all()
    assert (sel.indices[2::3] < 2).all()  # padded candidates are never drawn while real ones remain


def test_sampling_follows_the_probabilities() -> None:
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).repeat(20_000, 1)
    first = gumbel_select(logits, tau=1.0, k=1, generator=torch.Generator().manual_seed(0)).indices[:, 0]
    freq = torch.bincount(first, minlength=3).float() / len(first)
    # p̂ at τ = 1 is itself a Gumbel perturbation of p, so the first pick is not exactly p; it is ordered
    assert freq[0] > freq[1] > freq[2] > 0


def test_one_selected_candidate_gives_alpha_no_gradient_and_two_do() -> None:
    alpha = torch.randn(4, 8, requires_grad=True)
    features = torch.randn(8)
    for k, expect_zero in ((1, True), (2, False)):
        alpha.grad = None
        sel = gumbel_select(alpha, tau=1.0, k=k, generator=torch.Generator().manual_seed(3))
        (sel.weights * features[sel.indices]).sum().backward()
        assert (alpha.grad.abs().sum() == 0) == expect_zero


def test_depth_weights_cover_every_candidate_and_sum_to_one() -> None:
    """Eq. 5 as the authors compute it: p̂ over all of a stage's depths, padding excluded."""
    logits = torch.tensor([[0.0, 0.5, -0.5], [1.0, 0.0, MASKED_LOGIT]]).repeat(100, 1)
    weights = gumbel_softmax(logits, tau=1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(weights.sum(-1), torch.ones(200))
    assert (weights[0::2] > 0).all() and (weights[1::2, :2] > 0).all()
    assert (weights[1::2, 2] == 0).all()
