"""The bad-input corpus: every case is data (a command line, the files it reads, the words its
one-line error must contain). `test_bad_inputs.py` runs them all with the same assertions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from bad_input_files import UNREADABLE


@dataclass(frozen=True)
class Case:
    """One bad input.

    Args:
        id: the test id.
        argv: the command line after ``tasray``; ``{store}`` is the storage folder.
        words: what the one error line must contain.
        config: when given, written as ``exp.yaml`` after ``name``, ``model`` and ``storage_path``.
        files: writers (see `bad_input_files.WRITERS`) run in the working folder first.
        env: environment variables set for the case.
        max_seconds: the case must be rejected within this time (measured in-process).
        subprocess: run as ``python -m tasray`` too, to prove the contract end to end.
    """

    id: str
    argv: tuple[str, ...]
    words: tuple[str, ...]
    config: str | None = None
    files: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    max_seconds: float = 30.0
    subprocess: bool = False


RUN = ("run", "exp.yaml", "--address", "local")
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "tasray",
    "AWS_SECRET_ACCESS_KEY": "tasray",
    "AWS_DEFAULT_REGION": "us-east-1",
}
VALIDATE = ("validate", "exp.yaml")
NPZ = "data: {name: npz, root: data.npz}\n"
CHECKPOINT = "teacher: {checkpoint: teacher.pt, epochs: 0}\n"


def readable(path: str) -> bool:
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def config(id: str, text: str, words: tuple[str, ...], argv: tuple[str, ...] = RUN, **kw) -> Case:
    return Case(id, argv, words, config=text, **kw)


def npz(id: str, writer: str, words: tuple[str, ...], **kw) -> Case:
    return Case(f"npz-{id}", RUN, words, config=NPZ, files=(writer,), **kw)


CASES: list[Case] = [
    # The experiment file itself: reading and parsing.
    Case("file-missing", ("run", "nowhere.yaml"), ("nowhere.yaml: no such experiment file",)),
    Case("file-is-a-folder", ("validate", "."), (".: no such experiment file",)),
    Case("file-binary", ("run", "binary.yaml"), ("binary.yaml", "not a text file"), files=("binary_yaml",)),
    Case(
        "file-null-byte", ("validate", "nul.yaml"), ("nul.yaml: not valid YAML",), files=("null_bytes_yaml",)
    ),
    Case(
        "file-deep-brackets",
        ("run", "deep.yaml"),
        ("deep.yaml: rejected: nested more than 32 levels",),
        files=("deep_yaml",),
        max_seconds=2,
        subprocess=True,
    ),
    Case(
        "file-deep-mapping",
        ("validate", "deep.yaml"),
        ("deep.yaml", "nested more than 32 levels"),
        files=("deep_mapping_yaml",),
        max_seconds=2,
    ),
    Case(
        "file-alias-bomb",
        ("run", "bomb.yaml"),
        ("bomb.yaml: rejected: expands to more than 20,000 values",),
        files=("alias_bomb_yaml",),
        max_seconds=2,
        subprocess=True,
    ),
    Case(
        "file-recursive-alias",
        ("validate", "loop.yaml"),
        ("loop.yaml: rejected: an alias refers to a value that contains it",),
        files=("recursive_alias_yaml",),
        max_seconds=2,
    ),
    Case(
        "file-oversized",
        ("run", "huge.yaml"),
        ("huge.yaml", "bytes; an experiment file may have at most 262,144"),
        files=("huge_yaml",),
        max_seconds=2,
        subprocess=True,
    ),
    config("yaml-syntax", "search: {epochs: 3\n", ("not valid YAML at line",)),
    config("yaml-duplicate-key", "seed: 1\nseed: 2\n", ('duplicate key "seed"',)),
    Case(
        "yaml-top-level-list", ("run", "list.yaml"), ("must be a mapping of sections",), files=("list_yaml",)
    ),
    # Values.
    config("unknown-top-key", "serch: {epochs: 3}\n", ("unknown key 'serch' at top level",)),
    config("unknown-nested-key", "search: {epoch: 3}\n", ("unknown key 'epoch' in search",)),
    config("name-with-slash", "", ("name = 'a/b'", "letters, digits"), argv=(*RUN, "--set", "name=a/b")),
    config("name-too-long", "", ("at most 100 are allowed",), argv=(*RUN, "--set", f"name={'n' * 300}")),
    config("seed-negative", "seed: -1\n", ("seed = -1", "must be in [0, 4294967295]")),
    config(
        "seed-beyond-2-63", "seed: 18446744073709551617\n", ("seed = 18446744073709551617", "[0, 4294967295]")
    ),
    config("lambda-cost-inf", "search: {lambda_cost: .inf}\n", ("search.lambda_cost", "finite number")),
    config("weight-lr-nan", "search: {weight_lr: .nan}\n", ("search.weight_lr", "finite number")),
    config("teacher-lr-inf", "teacher: {lr: .inf}\n", ("teacher.lr", "finite number")),
    config("arch-lr-negative-inf", "search: {arch_lr: -.inf}\n", ("search.arch_lr",)),
    config("target-ratio-zero", "search: {target_ratio: 0}\n", ("search.target_ratio = 0", "(0, 1]")),
    config("num-selected-one", "search: {num_selected: 1}\n", ("search.num_selected = 1", ">= 2")),
    config("num-selected-100", "search: {num_selected: 100}\n", ("search.num_selected = 100", "<= 8")),
    config(
        "num-selected-depth",
        "search: {variant: tas_d, num_selected: 5}\n",
        ("search.num_selected = 5", "<= 3", "depth candidates"),
    ),
    config("width-duplicates", "search: {width_ratios: [0.5, 0.5]}\n", ("search.width_ratios", "duplicates")),
    config("tau-order", "search: {tau_min: 20}\n", ("search.tau_min = 20", "<= tau_max")),
    config("teacher-zero-epochs", "teacher: {epochs: 0}\n", ("teacher.epochs = 0", "teacher.checkpoint")),
    config("data-unknown", "data: {name: mnist}\n", ("data.name = 'mnist'", "'cifar10'")),
    config(
        "npz-without-root",
        "data: {name: npz}\n",
        ("data.root", "required for data 'npz'", "--set data.root=PATH) to your .npz file"),
    ),
    config("baseline-unknown", "baselines: [{method: magnitude}]\n", ("'magnitude'", "fixed_ratio")),
    config(
        "baseline-gradient-batches-not-taylor",
        "baselines: [{method: l1_global, gradient_batches: 2}]\n",
        ("unknown key 'gradient_batches' in baselines[0]", "width_multiple"),
    ),
    config(
        "baseline-width-multiple-0",
        "baselines: [{method: fpgm_uniform, width_multiple: 0}]\n",
        ("baselines[0].width_multiple = 0", ">= 1"),
    ),
    config("data-label-path", "data: {name: npz, root: data.npz, label: ../up}\n", ("data.label = '../up'",)),
    config(
        "baseline-two-targets",
        "baselines: [{method: fixed_ratio, keep_ratio: 0.5, target_ratio: 0.5}]\n",
        ("baselines[0].keep_ratio", "not both"),
    ),
    config("sweep-unknown-field", "sweep: {space: {search.tau: {choice: [1]}}}\n", ("search.tau",)),
    config(
        "sweep-bound-invalid",
        "sweep: {space: {search.target_ratio: {uniform: [0.4, 1.5]}}}\n",
        ("sweep.space.search.target_ratio", "1.5 is invalid"),
    ),
    config(
        "sweep-num-selected-beyond",
        "sweep: {space: {search.num_selected: {choice: [2, 99]}}}\n",
        ("sweep.space.search.num_selected", "99 is invalid", "<= 8"),
    ),
    config("gpus-without-use-gpu", "resources: {gpus_per_worker: 1}\n", ("gpus_per_worker", "use_gpu")),
    # --set.
    config("set-without-equals", "", ("expected key.path=value",), argv=(*RUN, "--set", "search.epochs")),
    config("set-unknown-path", "", ("unknown key 'nope'",), argv=(*RUN, "--set", "search.nope=1")),
    config(
        "set-bad-yaml", "", ("--set search.epochs: not valid YAML",), argv=(*RUN, "--set", "search.epochs=[")
    ),
    config("set-deep", "", ("rejected: nested more than 32",), argv=(*RUN, "--set", "seed=" + "[" * 500)),
    # Data files, checked on the driver.
    config("npz-missing-file", NPZ, ("data.npz", "no such .npz file")),
    npz("random-bytes", "npz_random_bytes", ("data.npz", "not a readable .npz")),
    npz("float-images", "npz_float_images", ("x_train has dtype float32", "uint8")),
    npz("label-beyond-classes", "npz_label_beyond_classes", ("y_test[3] is 3", "labels must be 0..2")),
    npz("negative-test-label", "npz_negative_test_label", ("y_test[2] is -1", "labels must be >= 0")),
    npz("mismatched-shapes", "npz_mismatched_shapes", ("x_test images are H×W×C (9, 9, 1)",)),
    npz("fewer-labels", "npz_fewer_labels", ("y_train has 11 labels but x_train has 12 images",)),
    npz("one-class", "npz_one_class", ("a classifier needs >= 2",)),
    npz("empty-images", "npz_empty_images", ("x_train has shape (0, 8, 8, 1)",)),
    npz("float-labels", "npz_float_labels", ("y_train has dtype float32", "integers")),
    npz("five-d-images", "npz_five_d_images", ("x_train has shape (12, 8, 8, 1, 1)",)),
    npz("missing-key", "npz_missing_key", ("lacks y_test",)),
    Case("npz-validate", VALIDATE, ("x_train has dtype float32",), config=NPZ, files=("npz_float_images",)),
    config(
        "cifar-empty-root",
        "data: {name: cifar10, root: empty}\n",
        ("cifar10 files not found", "missing 7 of"),
        files=("empty_folder",),
        subprocess=True,
    ),
    config(
        "cifar-missing-root", "data: {name: cifar100, root: nowhere}\n", ("/nowhere'", "no such directory")
    ),
    config(
        "imagenet-without-val",
        "data: {name: imagenet, root: imagenet}\n",
        ("val is not a folder",),
        files=("imagenet_without_val",),
    ),
    config(
        "imagenet-other-classes",
        "data: {name: imagenet, root: imagenet}\n",
        ("class folders", "differ"),
        files=("imagenet_other_classes",),
    ),
    # Teacher checkpoints, matched against the model on the driver.
    config("ckpt-missing", CHECKPOINT, ("teacher.checkpoint", "no such file")),
    config(
        "ckpt-random-bytes",
        CHECKPOINT,
        ("teacher.checkpoint (cifar_resnet20)", "not a readable PyTorch file (", ")"),
        files=("ckpt_random_bytes",),
        subprocess=True,
    ),
    config("ckpt-empty", CHECKPOINT, ("not a readable PyTorch file (",), files=("ckpt_empty",)),
    config(
        "ckpt-other-model",
        CHECKPOINT,
        ("a state_dict of another architecture", "unexpected, e.g. stages."),
        files=("ckpt_other_model",),
    ),
    config("ckpt-other-classes", CHECKPOINT, ("has shape (7,", "needs (10,"), files=("ckpt_other_classes",)),
    config("ckpt-list", CHECKPOINT, ("holds a list, not a state_dict",), files=("ckpt_list",)),
    # Storage paths.
    config(
        "storage-is-a-file",
        "",
        ("a_file' is a file",),
        argv=(*RUN, "--set", "storage_path=a_file"),
        files=("a_file",),
    ),
    config(
        "storage-under-a-file",
        "",
        ("which is a file",),
        argv=(*RUN, "--set", "storage_path=a_file/store"),
        files=("a_file",),
    ),
    config(
        "storage-unwritable",
        "",
        ("cannot create files in /sys",),
        argv=(*RUN, "--set", "storage_path=/sys/tasray"),
    ),
    config(
        "storage-unknown-scheme",
        "",
        ("unknown URI scheme 'ftp'",),
        argv=(*RUN, "--set", "storage_path=ftp://x/y"),
    ),
    config(
        "storage-file-uri-relative",
        "",
        ("storage_path = 'file://results': pyarrow cannot open it", "cannot be relative", "file:///absolute"),
        argv=(*RUN, "--set", "storage_path=file://results"),
        subprocess=True,
    ),
    config(
        "storage-hdfs-without-hadoop",
        "",
        ("storage_path = 'hdfs://namenode:8020/tasray': pyarrow cannot open it",),
        argv=(*RUN, "--set", "storage_path=hdfs://namenode:8020/tasray"),
    ),
    config(
        "storage-symlink-loop",
        "",
        ("loop1 is a symlink loop; it must lead to a folder",),
        argv=(*RUN, "--set", "storage_path=loop1/store"),
        files=("symlink_loop",),
        subprocess=True,
    ),
    config(
        "storage-dangling-symlink",
        "",
        ("dangling is a symlink to", "which does not exist"),
        argv=(*RUN, "--set", "storage_path=dangling"),
        files=("dangling_symlink",),
    ),
    config(
        "storage-experiment-folder-a-file",
        "",
        ("bad under it is a file; the run needs a folder there",),
        files=("experiment_folder_a_file",),
    ),
    config(
        "storage-s3-unreachable",
        "",
        ("storage_path = 's3://bucket/store': cannot write to it: the store is unreachable",),
        argv=(*RUN, "--set", "storage_path=s3://bucket/store"),
        env={**S3_CREDENTIALS, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"},
        max_seconds=60,
    ),
    # Caches and the sweep journal, read before Ray starts.
    config(
        "teacher-cache-damaged",
        "",
        ("the cached teacher", "teacher.pt is damaged (", "delete it to train the teacher again"),
        files=("teacher_damaged",),
        subprocess=True,
    ),
    config(
        "teacher-cache-another-object",
        "",
        ("the cached teacher", "is damaged (", "delete it"),
        files=("teacher_not_a_teacher",),
    ),
    config(
        "teacher-cache-a-folder",
        "",
        ("the cached teacher: cannot read", "it is a folder, not a file"),
        files=("teacher_is_a_folder",),
    ),
    *(  # where root may read every file, there is no permission to deny
        [
            config(
                "teacher-cache-permission-denied",
                "",
                ("the cached teacher: cannot read", "teacher.pt: permission denied"),
                files=("teacher_denied",),
            )
        ]
        if not readable(UNREADABLE)
        else []
    ),
    config(
        "search-cache-damaged",
        "sweep: {algorithm: grid, space: {search.num_selected: {choice: [2, 3]}}}\n",
        ("the cached search", "search.pt is damaged (", "delete it to run the search again"),
        files=("search_damaged_last_grid_point",),
        subprocess=True,
    ),
    *(
        config(
            f"journal-{name}",
            "sweep: {space: {search.target_ratio: {uniform: [0.4, 0.6]}}}\n",
            ("the sweep journal", "points-", ".json is damaged (", why, "delete it"),
            files=(f"journal_{name}",),
            subprocess=name == "truncated",
        )
        for name, why in [
            ("truncated", "not JSON"),
            ("mapping", "expected a list of {dotted path: value} points"),
            ("binary", "not JSON"),
            ("out_of_range", "search.target_ratio = 7"),
            ("unknown_path", "unknown key 'nope'"),
        ]
    ),
    # Devices and addresses.
    config(
        "gpu-missing",
        "resources: {use_gpu: true, num_workers: 64}\n",
        ("resources.use_gpu = true", "need 64 GPUs"),
        max_seconds=30,
        subprocess=True,
    ),
    *(  # on a machine with a GPU, one GPU is not a bad input
        [
            config(
                "gpu-none",
                "resources: {use_gpu: true}\n",
                ("need 1 GPU (num_workers", "this machine has 0"),
                max_seconds=30,
            )
        ]
        if torch.cuda.device_count() == 0
        else []
    ),
    config("cpus-missing", "resources: {cpus_per_worker: 4096}\n", ("need 4096 CPUs",)),
    config(
        "address-refused",
        "",
        ("cannot reach the Ray cluster at 127.0.0.1:1",),
        argv=("run", "exp.yaml", "--address", "127.0.0.1:1"),
        max_seconds=30,
    ),
    config(
        "address-unroutable",
        "",
        ("Ray cluster", "at 10.255.255.1:6379", "or use --address local"),  # timeout or not a GCS
        argv=("run", "exp.yaml", "--address", "10.255.255.1:6379"),
        max_seconds=30,
        subprocess=True,
    ),
    config("address-malformed", "", ("expected host:port",), argv=("run", "exp.yaml", "--address", "nohost")),
    config(
        "address-from-env",
        "",
        ("127.0.0.1:2 (from RAY_ADDRESS=127.0.0.1:2)",),
        argv=("run", "exp.yaml"),
        env={"RAY_ADDRESS": "127.0.0.1:2"},
    ),
    config(
        "address-empty", "", ("--address '' is empty", "host:port"), argv=("run", "exp.yaml", "--address", "")
    ),
    config("address-blank", "", ("--address ' ' is empty",), argv=("run", "exp.yaml", "--address", " ")),
    # Command-line flags.
    Case("no-command", (), ("the following arguments are required: COMMAND",)),
    Case("unknown-command", ("train",), ("invalid choice: 'train'",)),
    Case("run-without-file", ("run",), ("the following arguments are required: file",)),
    Case("unknown-flag", ("leaderboard", "--colour"), ("unrecognized arguments: --colour",)),
    config(
        "skip-data-check-of-a-run",
        "",
        ("--skip-data-check needs --dry-run",),
        argv=(*RUN, "--skip-data-check"),
    ),
    config("latency-table-missing", "latency: {table: nowhere.json}\n", ("latency.table", "no such file")),
    config(
        "latency-table-not-a-table",
        "latency: {table: arch.json}\n",
        ("latency.table", "not a latency table"),
        files=("arch_too_wide",),
    ),
    config("latency-device-unknown", "latency: {device: tpu}\n", ("latency.device", "'cuda'")),
    config("latency-threads-cpu-clock", "latency: {threads: 2}\n", ("latency.threads", "needs clock: wall")),
    config("latency-batch-zero", "latency: {batch: 0}\n", ("latency.batch",)),
    Case(
        "latency-table-unknown-device",
        ("latency-table", "cifar_resnet20", "--out", "lut.json", "--device", "tpu"),
        ("--device tpu: allowed cpu, cuda",),
    ),
    Case(
        "latency-table-out-folder-missing",
        ("latency-table", "cifar_resnet20", "--out", "no/such/lut.json"),
        ("--out no/such/lut.json: no such folder",),
    ),
    Case(
        "latency-table-out-not-a-table",
        ("latency-table", "cifar_resnet20", "--out", "arch.json"),
        ("exists and is not a latency table",),
        files=("arch_too_wide",),
    ),
    Case(
        "latency-table-cpu-clock-threads",
        ("latency-table", "cifar_resnet20", "--out", "lut.json", "--threads", "2"),
        ("--threads 2: needs --clock wall",),
    ),
    Case("flops-clock-unknown", ("flops", "cifar_resnet20", "--latency", "--clock", "gpu"), ("--clock gpu",)),
    Case("flops-num-classes-zero", ("flops", "cifar_resnet20", "--num-classes", "0"), ("--num-classes 0",)),
    Case(
        "flops-in-channels-negative",
        ("flops", "cifar_resnet20", "--in-channels", "-3"),
        ("--in-channels -3",),
    ),
    Case("flops-input-size-zero", ("flops", "cifar_resnet20", "--input-size", "0"), ("--input-size takes",)),
    Case("flops-input-size-text", ("flops", "cifar_resnet20", "--input-size", "big"), ("invalid int value",)),
    Case("flops-unknown-model", ("flops", "resnet7"), ("unknown model 'resnet7'",)),
    Case("flops-without-target", ("flops",), ("tasray flops: error:", "required: target", "--help")),
    Case("run-set-without-value", ("run", "x.yaml", "--set"), ("argument --set: expected one argument",)),
    Case(
        "flops-num-classes-400-digits",
        ("flops", "cifar_resnet20", "--num-classes", "9" * 400),
        ("num_classes = 999", "allowed 1..2147483647"),
    ),
    Case(
        "flops-input-size-beyond-int32",
        ("flops", "cifar_resnet20", "--input-size", "4294967296"),
        ("input_size = [4294967296, 4294967296]",),
    ),
    Case(
        "flops-latency-beyond-memory",
        ("flops", "cifar_resnet20", "--latency", "--batch", "99999999999"),
        ("--latency: cannot run cifar_resnet20 at batch 99999999999", "use a smaller --batch"),
    ),
    Case("flops-arch-missing", ("flops", "gone.json"), ("no such ArchSpec file",)),
    Case(
        "flops-arch-binary",
        ("flops", "arch.json"),
        ("not an ArchSpec JSON text file",),
        files=("arch_binary",),
        subprocess=True,
    ),
    Case(
        "flops-arch-null-classes",
        ("flops", "arch.json"),
        ("arch.json: num_classes = None; must be an integer",),
        files=("arch_null_classes",),
    ),
    Case("flops-arch-too-wide", ("flops", "arch.json"), ("widths[0] = 999",), files=("arch_too_wide",)),
    *(
        Case(
            f"flops-arch-{name}",
            ("flops", "arch.json"),
            ("arch.json: ", *words),
            files=(f"arch_{name.replace('-', '_')}",),
        )
        for name, words in [
            ("infinity", ("not valid JSON: Infinity is not a number JSON allows",)),
            ("huge-int", ("an integer of 400 digits; the largest allowed is 2147483647",)),
            ("float-classes", ("num_classes = 1e+300; must be an integer",)),
            ("bool-channels", ("in_channels = True; must be an integer",)),
            ("fractional-width", ("widths[0] = 16.7; must be an integer",)),
            ("text-width", ("widths[0] = '16'; must be an integer",)),
            ("nan-size", ("NaN is not a number JSON allows",)),
            ("list-model", ("model = ['cifar_resnet20']; must be a model name",)),
        ]
    ),
    # Results files.
    Case("leaderboard-missing", ("leaderboard", "nowhere"), ("nowhere: no such results folder",)),
    Case("leaderboard-csv", ("leaderboard", "results.csv"), ("not a results store",), files=("results_csv",)),
    Case(
        "leaderboard-corrupt",
        ("leaderboard", "results"),
        ("not a results file",),
        files=("results_random_parquet",),
    ),
    Case(
        "leaderboard-sort",
        ("leaderboard", "results", "--sort", "speed"),
        ("speed",),
        files=("results_empty",),
    ),
    Case(
        "leaderboard-format",
        ("leaderboard", "results", "--format", "xml"),
        ("xml",),
        files=("results_empty",),
    ),
    Case(
        "report-no-results",
        ("report", "results", "--out", "report"),
        ("no results under",),
        files=("results_empty",),
    ),
    Case(
        "report-out-unwritable",
        ("report", "results", "--out", "/sys/report"),
        ("--out = '/sys/report'",),
        files=("results_empty",),
    ),
    Case(
        "report-out-a-file",
        ("report", "results", "--out", "a_file"),
        ("a_file' is a file",),
        files=("results_empty", "a_file"),
    ),
    *(
        Case(
            f"leaderboard-{name}",
            ("leaderboard", "results"),
            ("results/run/t0.parquet", *words),
            files=(f"results_{name.replace('-', '_')}",),
        )
        for name, words in [
            ("top1-list", ("column top1 holds list<element: double>; tasray results need double",)),
            ("history-text", ("column search_history holds string",)),
            ("null-flop-ratio", ("column flop_ratio is null in 1 row(s); it needs a value",)),
            ("null-data-set", ("column data_set is null in 1 row(s)",)),
            ("inf-flop-ratio", ("(trial t0): flop_ratio = inf; it must be a finite number",)),
            ("text-top1", ("column top1 holds string",)),
            ("text-started-at", ("column started_at holds string",)),
        ]
    ),
    Case(
        "report-nan-top1",
        ("report", "results", "--out", "report"),
        ("results/run/t0.parquet (trial t0): top1 = nan",),
        files=("results_nan_top1",),
    ),
    Case(
        "report-history-null-entry",
        ("report", "results", "--out", "report"),
        ("(trial t0): search_history has a null entry",),
        files=("results_history_null_entry",),
    ),
    Case(
        "report-broken-arch",
        ("report", "results", "--out", "new/deeper/report"),
        ("results/run/t0.parquet (trial t0): arch: not valid JSON",),
        files=("results_broken_arch",),
        subprocess=True,
    ),
    Case(
        "leaderboard-non-utf8-name",
        ("leaderboard", "results"),
        ("-t0.parquet (trial t0): top1 = nan",),
        files=("results_non_utf8_name_nan",),
        subprocess=True,
    ),
    Case(
        "leaderboard-relative-file-uri",
        ("leaderboard", "file://results"),
        ("cannot open results store file://results: File URI cannot be relative",),
    ),
    Case(
        "leaderboard-hdfs-without-hadoop",
        ("leaderboard", "hdfs://namenode:8020/results"),
        ("cannot open results store hdfs://namenode:8020/results",),
    ),
    Case(
        "report-out-in-symlink-loop",
        ("report", "results", "--out", "loop1/report"),
        ("--out = 'loop1/report': loop1 is a symlink loop",),
        files=("results_empty", "symlink_loop"),
    ),
    # Export.
    Case("export-missing-trial", ("export", "nowhere"), ("is not a saved pruned network",)),
    Case(
        "export-bad-format",
        ("export", "trial", "--format", "tflite"),
        ("--format 'tflite'",),
        files=("trial",),
    ),
    Case(
        "export-out-cwd",
        ("export", "trial", "--format", "state_dict", "--out", "."),
        ("--out .: an existing folder that is not an earlier tasray state_dict export",),
        files=("trial",),
        subprocess=True,
    ),
    Case(
        "export-out-existing-file",
        ("export", "trial", "--out", "precious.ts"),
        ("--out precious.ts: an existing file",),
        files=("trial", "existing_out_file"),
    ),
    Case(
        "export-out-missing-folder",
        ("export", "trial", "--out", "no/such/x.ts"),
        ("the folder no/such does not exist",),
        files=("trial",),
    ),
    Case(
        "export-corrupt-weights",
        ("export", "trial"),
        ("not a readable PyTorch file",),
        files=("trial_corrupt_weights",),
    ),
    Case("export-other-arch", ("export", "trial"), ("another architecture",), files=("trial_other_arch",)),
    Case(
        "export-binary-arch",
        ("export", "trial"),
        ("not an ArchSpec JSON file",),
        files=("trial_binary_arch",),
    ),
    Case(
        "export-without-data-card",
        ("export", "trial"),
        ("trial has no data.json", "_config.yaml to look the data set up in"),
        files=("trial_without_card",),
    ),
    Case(
        "export-binary-data-card",
        ("export", "trial", "--check"),
        ("data.json: not a data card JSON file",),
        files=("trial_binary_card",),
    ),
    Case(
        "export-infinite-arch",
        ("export", "trial"),
        ("arch.json: not valid JSON: Infinity is not a number JSON allows",),
        files=("trial_infinite_arch",),
    ),
]
