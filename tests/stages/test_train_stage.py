import pytest
import torch
import torch.nn.functional as F

from tasray.config import SearchConfig
from tasray.engine.jobs import SearchJob, TrainJob
from tasray.spec.arch import ArchSpec
from tasray.stages.kd import KDLoss
from tasray.stages.metrics import evaluate
from tasray.stages.speed import SpeedSettings
from tasray.stages.train import TrainSettings, TrainStage
from tasray.stages.transfer import L1Norm, inherit_weights, select_channels


@pytest.fixture(scope="module")
def teacher(digits, digits_spec):
    stage = TrainStage(
        digits_spec, TrainSettings(epochs=2, batch_size=64), digits.train, digits.test, torch.device("cpu")
    )
    return stage.fit(progress=False).result()


def test_teacher_learns_digits(teacher) -> None:
    losses = [h["loss"] for h in teacher.history]
    assert losses[1] < losses[0], losses  # learns; how far two epochs get depends on the kernels
    assert teacher.flop_ratio == 1.0 and len(teacher.history) == 2


def half_spec(full: ArchSpec) -> ArchSpec:
    return ArchSpec(
        full.model, [max(1, w // 2) for w in full.widths], (2, 2, 2), full.in_channels, full.input_size, 10
    )


def test_init_transfer_of_the_full_spec_reproduces_the_teacher(teacher, digits) -> None:
    student = type(teacher.model)(teacher.spec)
    inherit_weights(student, teacher.model)
    x = torch.stack([digits.test[i][0] for i in range(16)])
    torch.testing.assert_close(student.eval()(x), teacher.model.eval()(x))


def test_init_transfer_keeps_the_selected_filters(teacher) -> None:
    spec = half_spec(teacher.spec)
    kept = select_channels(teacher.model, spec, L1Norm())
    student = type(teacher.model)(spec)
    inherit_weights(student, teacher.model, kept)
    stem, blocks = teacher.model.stem[0].weight, teacher.model.stages[0]
    # the stem and stage 1's two kept identity blocks add up channel by channel: one ranking of
    # their summed L1 norms
    stream = [stem, blocks[0].branch[3].weight, blocks[1].branch[3].weight]
    scores = sum(w.abs().sum((1, 2, 3)) for w in stream)
    assert kept[0] == sorted(scores.topk(spec.widths[0]).indices.tolist())
    torch.testing.assert_close(student.stem[0].weight, stem[torch.tensor(kept[0])])


@pytest.mark.parametrize("weight, temp", [(0.9, 4.0), (0.5, 2.0), (0.0, 4.0), (1.0, 1.0)])
def test_kd_loss_is_the_authors_formula(weight: float, temp: float) -> None:
    """(1 − α)·CE + α·T²·KL(p_teacher ‖ p_student), KL summed over classes and averaged over images."""
    generator = torch.Generator().manual_seed(7)
    student, teacher = (torch.randn(32, 10, generator=generator) * 3 for _ in range(2))
    target = torch.randint(0, 10, (32,), generator=generator)
    p_teacher = torch.softmax(teacher / temp, dim=1)
    log_p_student = torch.log_softmax(student / temp, dim=1)
    kl = (p_teacher * (p_teacher.log() - log_p_student)).sum(dim=1).mean()
    expected = (1 - weight) * F.cross_entropy(student, target) + weight * temp**2 * kl
    torch.testing.assert_close(KDLoss(weight, temp)(student, teacher, target), expected)


def test_kd_loss_sends_no_gradient_to_the_teacher() -> None:
    student, teacher = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    KDLoss(0.9, 4.0)(student, teacher, torch.tensor([0, 1, 2, 0])).backward()
    assert teacher.grad is None and student.grad is not None


@pytest.mark.parametrize("transfer", ["init", "kd"])
def test_retraining_with_transfer_learns(teacher, digits, transfer: str) -> None:
    settings = TrainSettings(epochs=2, batch_size=64, transfer=transfer)
    stage = TrainStage(
        half_spec(teacher.spec),
        settings,
        digits.train,
        digits.test,
        torch.device("cpu"),
        teacher=teacher.model,
    )
    result = stage.fit(progress=False).result()
    losses = [h["loss"] for h in result.history]
    assert losses[1] < losses[0], losses
    assert 0 < result.flop_ratio < 0.5


def test_transfer_without_a_teacher_is_refused(digits, digits_spec) -> None:
    with pytest.raises(ValueError, match="needs the teacher"):
        TrainStage(
            digits_spec,
            TrainSettings(epochs=1, transfer="kd"),
            digits.train,
            digits.test,
            torch.device("cpu"),
        )


def first_conv_with_channels(model: torch.nn.Module) -> torch.nn.Conv2d:
    """A conv whose weight has more than one input channel (with one, NCHW is NHWC as well)."""
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)


@pytest.mark.parametrize("amp", ["bf16", "none"])
@pytest.mark.parametrize("channels_last", [True, False])
def test_speed_settings_train_on_cpu(digits, digits_spec, teacher, amp: str, channels_last: bool) -> None:
    """What each setting is for, on and off: bf16 forwards, NHWC weights, fp32 master weights, and
    a loss that falls (not an accuracy: one CPU's bf16 kernels reached 38 % where another's 40)."""
    speed = SpeedSettings(amp=amp, channels_last=channels_last)
    stage = TrainStage(
        digits_spec,
        TrainSettings(epochs=2, batch_size=64, transfer="kd", speed=speed),
        digits.train,
        digits.test,
        torch.device("cpu"),
        teacher=teacher.model,
    )
    weight = first_conv_with_channels(stage.model).weight
    assert weight.is_contiguous(memory_format=torch.channels_last) == channels_last
    images = speed.input(torch.stack([digits.test[i][0] for i in range(32)]), torch.device("cpu"))
    with speed.autocast(torch.device("cpu")):
        assert stage.teacher(images).dtype == (torch.bfloat16 if amp == "bf16" else torch.float32)
    result = stage.fit(progress=False).result()
    losses = [h["loss"] for h in result.history]
    assert losses[1] < losses[0], losses
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # master weights stay fp32


def batched_logits(model: torch.nn.Module, images: torch.Tensor, speed: SpeedSettings) -> torch.Tensor:
    """The model's logits in batches of 100 in order, as `evaluate(..., 100, ...)` computes them."""
    cpu = torch.device("cpu")
    with torch.no_grad(), speed.autocast(cpu):
        return torch.cat(
            [model(speed.input(images[i : i + 100], cpu)).float() for i in range(0, len(images), 100)]
        )


def test_bf16_evaluation_runs_under_autocast_and_stays_near_fp32(teacher, digits) -> None:
    model, cpu = teacher.model.eval(), torch.device("cpu")
    images = torch.stack([image for image, _ in digits.test])
    targets = torch.tensor([int(label) for _, label in digits.test])
    fp32 = batched_logits(model, images, SpeedSettings())
    bf16 = batched_logits(model, images, SpeedSettings(amp="bf16"))
    error = (bf16 - fp32).abs().max()
    assert 0 < error < 0.05 * fp32.abs().max()  # autocast ran; bf16 keeps 8 bits of mantissa
    bf16_scores = evaluate(model, digits.test, 100, cpu, speed=SpeedSettings(amp="bf16"))
    assert bf16_scores["loss"] == pytest.approx(F.cross_entropy(bf16, targets).item(), rel=1e-5)
    assert evaluate(model, digits.test, 100, cpu)["top1"] == pytest.approx(teacher.top1)


def test_loader_workers_reach_every_loader(digits_config, digits_spec, cpu) -> None:
    data = digits_config.model_copy(update={"loader_workers": 2})
    job = TrainJob("t", digits_spec, TrainSettings(epochs=1, batch_size=64), data, seed=0)
    stage = job.build(cpu)
    assert stage.loader.num_workers == 2 and stage.loader_options.workers == 2
    assert not stage.loader.pin_memory  # pinned memory only pays with a GPU
    search = SearchJob.of(digits_spec, SearchConfig(epochs=1), data, seed=0).build(cpu)
    assert search.train_loader.num_workers == search.val_loader.num_workers == 2
    assert job.settings.speed == SpeedSettings()  # the CPU default: fp32, contiguous, eager


def test_compile_wraps_the_forward_but_saves_the_plain_module(digits, digits_spec, cpu) -> None:
    stage = TrainStage(
        digits_spec,
        TrainSettings(epochs=1, speed=SpeedSettings(compile=True)),
        digits.train,
        digits.test,
        cpu,
    )
    assert isinstance(stage.forward, torch._dynamo.eval_frame.OptimizedModule)
    assert stage.forward._orig_mod is stage.model
    assert not any(key.startswith("_orig_mod") for key in stage.state_dict()["model"])
