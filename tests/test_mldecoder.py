"""ML-Decoder head and asymmetric loss: behaviour of the authors' implementations, checked on shared weights."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnalib.learning import losses, models


class RestatedReference(nn.Module):
    """The authors' ML-Decoder forward pass written out again from torch primitives, in their layout
    (sequence first) and their literal order: q ← q + dropout(q), norm1; attention on the memory, residual,
    norm2; Linear → ReLU → dropout → Linear, residual, norm3; then a loop over groups filling a zero buffer
    with h_g @ W_g, flatten, keep the first classes, add the bias. Weights are copied in by ``load_from``."""

    def __init__(self, in_dim, n_classes, n_groups, d_model, ff_dim, heads):
        super().__init__()
        self.n_classes, self.n_groups = n_classes, n_groups
        self.dup = int(n_classes / n_groups + 0.999)
        self.proj = nn.Linear(in_dim, d_model)
        self.query_embed = nn.Embedding(n_groups, d_model)
        self.attn = nn.MultiheadAttention(d_model, heads)  # sequence-first, as in the reference
        self.lin1, self.lin2 = nn.Linear(d_model, ff_dim), nn.Linear(ff_dim, d_model)
        self.n1, self.n2, self.n3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.pool = nn.Parameter(torch.zeros(n_groups, d_model, self.dup))
        self.pool_bias = nn.Parameter(torch.zeros(n_classes))

    @torch.no_grad()
    def load_from(self, ours: models.MLDecoder):
        pairs = [(self.proj.weight, ours.embed.weight), (self.proj.bias, ours.embed.bias),
                 (self.query_embed.weight, ours.queries),
                 (self.attn.in_proj_weight, ours.attention.in_proj_weight),
                 (self.attn.in_proj_bias, ours.attention.in_proj_bias),
                 (self.attn.out_proj.weight, ours.attention.out_proj.weight),
                 (self.attn.out_proj.bias, ours.attention.out_proj.bias),
                 (self.lin1.weight, ours.ff[0].weight), (self.lin1.bias, ours.ff[0].bias),
                 (self.lin2.weight, ours.ff[3].weight), (self.lin2.bias, ours.ff[3].bias),
                 (self.pool, ours.group_weight), (self.pool_bias, ours.group_bias)]
        for mine, theirs in ((self.n1, ours.norm1), (self.n2, ours.norm2), (self.n3, ours.norm3)):
            pairs += [(mine.weight, theirs.weight), (mine.bias, theirs.bias)]
        for dst, src in pairs:
            assert dst.shape == src.shape
            dst.copy_(src)

    def forward(self, x):  # x: (B, T, in_dim); eval mode, so every dropout is the identity
        mem = F.relu(self.proj(x)).transpose(0, 1)  # (T, B, d)
        tgt = self.query_embed.weight.unsqueeze(1).expand(-1, x.shape[0], -1)  # (G, B, d)
        tgt = tgt + tgt  # q + dropout(q) with dropout off
        tgt = self.n1(tgt)
        tgt = self.n2(tgt + self.attn(tgt, mem, mem)[0])
        tgt = self.n3(tgt + self.lin2(F.relu(self.lin1(tgt))))
        h = tgt.transpose(0, 1)  # (B, G, d)
        out = torch.zeros(h.shape[0], self.n_groups, self.dup)
        for g in range(self.n_groups):
            out[:, g, :] = h[:, g, :] @ self.pool[g]
        return out.flatten(1)[:, :self.n_classes] + self.pool_bias


def perturb(module: nn.Module, seed: int = 0):
    """Move every parameter off its initial value (zero biases, unit norms) so the comparison sees them all."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)


@pytest.mark.parametrize("n_classes,n_groups,tokens", [(7, 3, 5), (6, -1, 4), (6, 6, 1), (5, 2, 3)])
def test_forward_equals_restated_reference_on_shared_weights(n_classes, n_groups, tokens):
    torch.manual_seed(0)
    ours = models.MLDecoder(in_dim=12, n_classes=n_classes, d_model=32, ff_dim=48, heads=4, n_groups=n_groups)
    perturb(ours)
    groups = min(100 if n_groups < 0 else n_groups, n_classes)
    ref = RestatedReference(12, n_classes, groups, 32, 48, 4)
    ref.load_from(ours)
    ours.eval(), ref.eval()
    x = torch.randn(9, tokens, 12)
    with torch.no_grad():
        got, want = ours(x), ref(x)
    assert got.shape == (9, n_classes)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert ours.last_attention.shape == (9, groups, tokens)
    torch.testing.assert_close(ours.last_attention.sum(-1), torch.ones(9, groups))


def test_training_mode_without_dropout_is_the_same_function():
    torch.manual_seed(1)
    ours = models.MLDecoder(in_dim=10, n_classes=7, d_model=16, ff_dim=24, heads=2, n_groups=3, dropout=0.0)
    perturb(ours, 1)
    ref = RestatedReference(10, 7, 3, 16, 24, 2)
    ref.load_from(ours)
    x = torch.randn(4, 6, 10)
    torch.testing.assert_close(ours.train()(x), ref.eval()(x), atol=1e-5, rtol=1e-5)


def test_first_step_adds_a_dropped_out_copy_of_the_queries():
    """The reference's odd first step, q + dropout(q) before norm1: in eval mode norm1 sees 2q; in training
    each feature of q is either kept (dropped copy) or scaled by 1 + 1/(1 - p)."""
    torch.manual_seed(9)
    head = models.MLDecoder(10, 6, d_model=64, ff_dim=24, heads=2, dropout=0.25)
    seen = []
    head.norm1.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    x = torch.randn(20, 3, 10)
    head.eval()(x)
    q = head.queries.detach()
    torch.testing.assert_close(seen[-1], 2 * q.expand(20, -1, -1))
    head.train()(x)
    ratio = seen[-1] / q
    kept, scaled = torch.isclose(ratio, torch.tensor(1.0)), torch.isclose(ratio, torch.tensor(1 + 1 / 0.75))
    assert (kept | scaled).all()
    assert kept.float().mean().item() == pytest.approx(0.25, abs=0.03)  # the dropped share


def test_two_dimensional_input_is_one_token():
    torch.manual_seed(2)
    ours = models.MLDecoder(in_dim=10, n_classes=4, d_model=16, ff_dim=24, heads=2).eval()
    x = torch.randn(3, 10)
    torch.testing.assert_close(ours(x), ours(x.unsqueeze(1)))
    assert ours.last_attention.shape == (3, 4, 1)


def test_reference_defaults_and_initialisation():
    torch.manual_seed(3)
    head = models.MLDecoder(2048, 6)
    assert head.queries.shape == (6, 768) and head.group_weight.shape == (6, 768, 1)
    assert head.embed.in_features == 2048 and head.ff[0].out_features == 2048 and head.attention.num_heads == 8
    assert head.attention.dropout == 0.1 and head.ff[2].p == 0.1 and head.drop_query.p == 0.1
    assert head.norm == "post" and not head.learn_queries and head.position is None
    assert not head.queries.requires_grad
    assert torch.equal(head.group_bias, torch.zeros(6))
    assert head.queries.std().item() == pytest.approx(1.0, rel=0.1)  # nn.Embedding's N(0, 1)
    xavier = math.sqrt(2.0 / ((768 + 6) * 1))  # fan_in = d·k, fan_out = groups·k
    assert head.group_weight.std().item() == pytest.approx(xavier, rel=0.1)
    # the reference's group rule: negative → 100 groups, capped at the number of classes
    assert models.MLDecoder(8, 150, d_model=16, heads=2).n_groups == 100
    assert models.MLDecoder(8, 150, d_model=16, heads=2).group_size == 2
    assert models.MLDecoder(8, 6, d_model=16, heads=2, n_groups=10).n_groups == 6
    assert models.MLDecoder(8, 6, d_model=16, heads=2, n_groups=4).group_size == 2
    for bad in ({"norm": "middle"}, {"position": "rotary"}, {"n_groups": 0}):
        with pytest.raises(ValueError):
            models.MLDecoder(8, 6, d_model=16, heads=2, **bad)


def test_fixed_queries_get_no_gradient_and_learned_ones_do():
    torch.manual_seed(4)
    x, y = torch.randn(8, 3, 10), torch.randint(0, 2, (8, 5)).float()
    fixed = models.MLDecoder(10, 5, d_model=16, ff_dim=24, heads=2)
    trainable = [p for p in fixed.parameters() if p.requires_grad]
    assert all(p is not fixed.queries for p in trainable)
    before = fixed.queries.detach().clone()
    optimizer = torch.optim.Adam(trainable, lr=0.1)
    F.binary_cross_entropy_with_logits(fixed(x), y).backward()
    optimizer.step()
    assert fixed.queries.grad is None and torch.equal(fixed.queries, before)
    assert fixed.embed.weight.grad is not None and fixed.group_weight.grad.abs().sum() > 0
    fixed.requires_grad_(True)  # even switched on wholesale, fixed queries stay out of the graph
    F.binary_cross_entropy_with_logits(fixed(x), y).backward()
    assert fixed.queries.grad is None

    learned = models.MLDecoder(10, 5, d_model=16, ff_dim=24, heads=2, learn_queries=True)
    assert learned.queries.requires_grad
    assert any(p is learned.queries for p in learned.parameters() if p.requires_grad)
    F.binary_cross_entropy_with_logits(learned(x), y).backward()
    assert learned.queries.grad is not None and learned.queries.grad.abs().sum() > 0


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_every_token_matters_but_order_does_not_without_positions(norm):
    """The reference has no position embedding: cross-attention pools the tokens with softmax weights, so
    permuting the tokens permutes the attention weights and leaves the logits unchanged."""
    torch.manual_seed(5)
    head = models.MLDecoder(10, 6, d_model=16, ff_dim=24, heads=2, norm=norm).eval()
    perturb(head, 5)
    x = torch.randn(4, 5, 10)
    logits = head(x)
    weights = head.last_attention
    for token in range(5):
        changed = x.clone()
        changed[:, token] += 1.0
        assert not torch.allclose(head(changed), logits, atol=1e-4)
    order = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(head(x[:, order]), logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(head.last_attention, weights[:, :, order], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
def test_position_embedding_makes_order_matter(position):
    torch.manual_seed(6)
    head = models.MLDecoder(10, 6, d_model=16, ff_dim=24, heads=2, position=position, max_tokens=8).eval()
    x = torch.randn(4, 5, 10)
    swapped = x[:, [1, 0, 2, 3, 4]]
    assert not torch.allclose(head(swapped), head(x), atol=1e-4)
    if position == "learned":
        with pytest.raises(ValueError, match="positions"):
            head(torch.randn(2, 9, 10))


def test_pre_norm_differs_from_post_norm_on_the_same_weights():
    torch.manual_seed(7)
    post = models.MLDecoder(10, 6, d_model=16, ff_dim=24, heads=2).eval()
    pre = models.MLDecoder(10, 6, d_model=16, ff_dim=24, heads=2, norm="pre").eval()
    pre.load_state_dict(post.state_dict())
    x = torch.randn(3, 4, 10)
    assert pre(x).shape == post(x).shape == (3, 6)
    assert not torch.allclose(pre(x), post(x))


def test_slice_tokens_shape_order_and_error():
    h = torch.arange(2 * 12, dtype=torch.float32).reshape(2, 12)
    tokens = models.slice_tokens(h, 4)
    assert tokens.shape == (2, 4, 3)
    assert torch.equal(tokens[1, 2], h[1, 6:9])  # consecutive chunks
    with pytest.raises(ValueError, match="divisible"):
        models.slice_tokens(torch.zeros(2, 60), 8)
    with pytest.raises(ValueError, match="batch, features"):
        models.slice_tokens(torch.zeros(2, 3, 4), 2)


def by_hand_asl(logits, targets, gamma_neg, gamma_pos, clip, eps=1e-8):
    """Element by element with math: the authors' formula (probability shift on negatives, one-sided
    focusing), summed."""
    total = 0.0
    for row_x, row_y in zip(logits, targets):
        for x, y in zip(row_x, row_y):
            p = 1 / (1 + math.exp(-x))
            if y:
                total += -math.log(max(p, eps)) * (1 - p) ** gamma_pos
            else:
                neg = min(1 - p + clip, 1.0)
                total += -math.log(max(neg, eps)) * (1 - neg) ** gamma_neg
    return total


@pytest.mark.parametrize("gamma_neg,gamma_pos,clip", [(4, 0, 0.05), (4, 1, 0.05), (2, 1, 0.0), (0, 0, 0.0)])
def test_asymmetric_loss_equals_the_formula_by_hand(gamma_neg, gamma_pos, clip):
    logits = [[2.0, -1.0, 0.3], [-3.0, 0.0, -0.02], [4.0, -0.5, 1.5]]
    targets = [[1, 0, 0], [0, 1, 0], [1, 1, 0]]
    want = by_hand_asl(logits, targets, gamma_neg, gamma_pos, clip)
    x, y = torch.tensor(logits, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    got_sum = losses.asymmetric_loss(x, y, gamma_neg, gamma_pos, clip, reduction="sum").item()
    assert got_sum == pytest.approx(want, rel=1e-12)
    assert losses.asymmetric_loss(x, y, gamma_neg, gamma_pos, clip).item() == pytest.approx(want / 9, rel=1e-12)
    assert losses.asymmetric_loss(x, y, gamma_neg, gamma_pos, clip, reduction="none").shape == (3, 3)
    with pytest.raises(ValueError, match="reduction"):
        losses.asymmetric_loss(x, y, reduction="max")


def test_asymmetric_loss_focusing_weights_carry_no_gradient_by_default():
    x = torch.tensor([[1.2, 0.8]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    losses.asymmetric_loss(x, y, gamma_neg=4, gamma_pos=1, clip=0.05, reduction="sum").backward()
    p = torch.sigmoid(x.detach())[0]
    # positive: d/dx[−log p]·w = −(1 − p)·(1 − p), the weight (1 − p) held constant
    assert x.grad[0, 0].item() == pytest.approx((-(1 - p[0]) * (1 - p[0])).item(), rel=1e-10)
    # negative: d/dx[−log(1 − p_m)]·w = p(1 − p)/(1 − p_m)·p_m⁴ with p_m = p − clip, the weight held constant
    pm = p[1] - 0.05
    assert x.grad[0, 1].item() == pytest.approx((p[1] * (1 - p[1]) / (1 - pm) * pm ** 4).item(), rel=1e-10)
    x.grad = None
    losses.asymmetric_loss(x, y, gamma_neg=4, gamma_pos=1, clip=0.05, reduction="sum", focal_grad=True).backward()
    assert x.grad[0, 0].item() != pytest.approx((-(1 - p[0]) * (1 - p[0])).item(), rel=1e-6)


def test_classification_loss_names():
    assert losses.classification_loss("asl") is losses.asymmetric_loss
    assert losses.classification_loss("bce") is F.binary_cross_entropy_with_logits
    with pytest.raises(ValueError, match="choose bce, asl, weighted_bce, focal"):
        losses.classification_loss("hinge")
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    torch.testing.assert_close(losses.positive_weights(y), torch.tensor([3.0, 1.0]))  # negatives / positives
    logits = torch.tensor([[0.3, -1.0], [2.0, 0.5], [-0.2, 0.1], [1.0, -2.0]])
    weighted = losses.classification_loss("weighted_bce", y)(logits, y)
    by_hand = -(y * 3 ** torch.tensor([1.0, 0.0]) * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)).mean()
    torch.testing.assert_close(weighted, by_hand)
    # focal: γ = 0 is BCE; γ > 0 shrinks confident, correct elements most
    torch.testing.assert_close(losses.focal_loss(logits, y, gamma=0.0), F.binary_cross_entropy_with_logits(logits, y))
    assert losses.focal_loss(logits, y) < F.binary_cross_entropy_with_logits(logits, y)
    with pytest.raises(ValueError, match="training labels"):
        losses.classification_loss("weighted_bce")
