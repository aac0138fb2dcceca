using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli;

/// <summary>The options of train and lr-find, and how to read them.</summary>
internal sealed class TrainOptionSet
{
    public DataOptionSet DataOptions { get; } = new();
    public Option<string> Out { get; } = Text("--out", "Run folder: checkpoint/, metrics.jsonl, losses.png, results.png, model.onnx.");
    public Option<string> Arch { get; } = Text("--arch", $"Backbone: {string.Join(", ", BackboneRegistry.Names)} (default blazeface).");
    public Option<string> Heads { get; } = Text("--heads", $"Comma-separated heads: {string.Join(", ", ModelConfig.HeadKinds)} (default center).");
    public Option<int> Epochs { get; } = Int("--epochs", "Epochs with every layer training.", 5, 0, 10_000);
    public Option<int> FreezeEpochs { get; } = Int("--freeze-epochs", "Epochs with the backbone frozen first.", 1, 0, 10_000);
    public Option<double> Lr { get; } = Number("--lr", "Base learning rate.", 2e-3, 1e-9, 10);
    public Option<double> LrMult { get; } = Number("--lr-mult", "How much slower the first layers learn than the heads.", 100, 1, 1e6);
    public Option<double> Wd { get; } = Number("--wd", "AdamW weight decay.", 0.01, 0, 1);
    public Option<int> Batch { get; } = Int("--batch", "Batch size.", 32, 1, 4096);
    public Option<int> Size { get; } = Int("--size", "Square input size (0: the backbone's default).", 0, 0, 1024);
    public Option<string> Weights { get; } = Text("--weights", "Pretrained backbone weights, or 'none' (default: BlazeFace's for blazeface).");
    public Option<string> LossWeights { get; } = Text("--loss-weights", "Loss weight per head kind, e.g. center=1,box=10.");
    public Option<int> Patience { get; } = Int("--patience", "Stop after this many epochs without a better validation loss (0: never).", 0, 0);
    public Option<int> Seed { get; } = Int("--seed", "Random seed.", 0);
    public Option<int> Threads { get; } = Int("--threads", "Threads for TorchSharp.", Environment.ProcessorCount, 1, 256);
    public Option<int> MaxBatches { get; } = Int("--max-batches", "Training batches per epoch at most (0: all).", 0, 0);
    public Option<string> Export { get; } = Text("--export", "Where to write the ONNX model (default: RUN_DIR/model.onnx).");
    public Option<bool> Resume { get; } = Flag("--resume", "Continue a stopped run from its last checkpoint.");
    public Option<string> Init { get; } = Text("--init", "Start from this earlier run (its folder or checkpoint folder) and fine-tune it: fastai's learn.load. Same --arch and --size; its backbone and each head it has in the same form are loaded, other heads start as built. The optimiser and schedule start afresh.");
    public Option<string> Oversample { get; } = Text("--oversample", "Show the training items of a --data entry N times an epoch, e.g. out/real=4 (validation is unchanged).");
    public Option<string> DistillKeypoints { get; } = Text("--distill-keypoints", "Label the keypoints of these --data entries' training items (comma-separated) with what the keypoint head puts on each unaugmented image as it starts (e.g. BlazeFace's own layers, --point-head keypoints=anchor), so learning from the others' keypoints does not pull it from that start; their own keypoints are not used. Not with --resume.");
    public Option<string> DropLabels { get; } = Text("--drop-labels", "Train a head without one --data entry's labels of its kind, e.g. out/synth=keypoints (then keypoints are learnt from the other entries only; validation keeps them).");
    public Option<string> HeadsOnly { get; } = Text("--heads-only", "--data entries (comma-separated) whose training items train the heads but not the backbone: the backbone's features are cut from the gradient for them, except for the keypoint guide (--guide-keypoints), which is there to teach the backbone. E.g. out/real, so the backbone learns from the renders alone.");
    public Option<bool> NoAugment { get; } = Flag("--no-augment", "Train without augmentation.");
    public Option<int> MaskStride { get; } = Int("--mask-stride", "Mask head: the finest feature stride it decodes to, then bilinear to the input (0: the backbone's finest; 4 is much cheaper on blazeface).", 0, 0, 64);
    public Option<int> MaskWidth { get; } = Int("--mask-width", "Mask head: channels of its decoder.", 32, 1, 1024);
    public Option<string> PointHead { get; } = Text("--point-head", "center and keypoints heads: regress (fully connected on the deepest map), heatmap (soft-argmax over heat maps at stride 8) or anchor (BlazeFace's anchors and their offsets, weighed by the softmax of their scores; on blazeface the keypoints start from BlazeFace's own detector layers). One for both, or per head kind: keypoints=anchor,center=regress. Default regress.");
    public Option<bool> KeepKeypoints { get; } = Flag("--keep-keypoints", "Keep BlazeFace's keypoint path as imported (with --point-head keypoints=anchor on blazeface): the keypoint head reads a frozen copy of the backbone's blocks after stride 4 (--keep-from), the stem and the blocks before stay frozen, and the other heads learn on the backbone's own later blocks; so no other head, and no keypoint label, moves the keypoints.");
    public Option<int> KeepFrom { get; } = Int("--keep-from", "With --keep-keypoints: the stride of the backbone's feature map the kept copy starts after, 4 or 8 (0: 4). 8 copies only the stride-16 blocks (a fifth of the extra inference of 4), and the blocks up to stride 8 then never train for any head.", 0, 0, 64);
    public Option<bool> GuideKeypoints { get; } = Flag("--guide-keypoints", "With --keep-keypoints: the backbone's own blocks also feed a second keypoint head, started from BlazeFace's layers like the kept one, which learns from the keypoint labels during training and is not exported; so the blocks the pose and the other heads read still learn where the face's points are.");
    public Option<string> PoseFrame { get; } = Text("--pose-frame", "pose head: ray (default: the rotation relative to the ray through the head centre, what a crop around the head shows; the runtime turns it into the camera's) or camera (in the camera's axes, as models before 2026-12-03).");
    public Option<int> PoseBlocks { get; } = Int("--pose-blocks", "With --pose-head anchor: residual blocks (BlazeBlock's shape: depthwise 3x3, pointwise 1x1; the branch scaled by a learnt factor that starts at 0) of the pose head's own on each anchor map before its rotation layers, learning at the heads' rate, starting as no change on blazeface; 0 to 4, default 0.", 0, 0, Models.Heads.AnchorPoseHead.MaxBlocks);
    public Option<string> PoseHead { get; } = Text("--pose-head", "pose head: regress (default: a fully connected layer on the deepest map, separate weights for every place) or anchor (a rotation regressed at every anchor of the stride-8 and stride-16 maps with the same weights everywhere, weighed by the softmax of anchor scores that start from BlazeFace's on blazeface).");
    public Option<string> ValueHead { get; } = Text("--value-head", "value head: pooled (fastai's pooled head on the deepest map) or density (a per-pixel density map from a U-Net decoder of --mask-width channels, summed: for counting small objects). Default pooled.");
    public Option<bool> MultiLabel { get; } = Flag("--multi-label", "The class head is multi-label: a sigmoid per class and binary cross-entropy (default: when some item carries several labels).");
    public Option<bool> SingleLabel { get; } = Flag("--single-label", "The class head is single-label (softmax), even if items carry several labels.");
    public Option<double> Threshold { get; } = Number("--threshold", "Multi-label: the probability above which a label counts as predicted (accuracy_multi, F1).", 0.5, 1e-6, 1 - 1e-6);
    public Option<string> YRange { get; } = Text("--y-range", "center, keypoints and value heads: the output range LOW,HIGH (fastai's y_range; a sigmoid squashes into it).");
    public Option<double> Steady { get; } = Number("--steady", "Weight of a steadiness term (0: none): once the body unfreezes, a quarter of each batch is seen again with camera-like noise added (sigma up to --steady-sigma grey levels), and the change of its pose and head centre from the clean items', measured as those heads' losses measure an error, is added to the loss times W, so a still face shakes less; validation then reports steady_deg and steady_px, the change at sigma 2.", 0, 0, 1e6);
    public Option<string> PoseLoss { get; } = Text("--pose-loss", "The pose head's loss: squared (the default: the squared distance between the rotation matrices, which weighs each item by its error squared) or angle (the distance itself, which grows with the angle between the rotations: an L1 loss on the angle, under which the many small errors count as much as the few large ones). --steady measures the pose's change by the squared distance either way.");
    public Option<double> SteadySigma { get; } = Number("--steady-sigma", "With --steady: the largest noise added, in grey levels (0-255); each item's sigma is drawn from 0 to it.", 4, 0.01, 64);
    public Option<string> Augment { get; } = Text("--augment", "Augmentation: default, none, no-crop (flips and rotation only: no crop, zoom or shift, which would cut objects off and change what is counted), or flip (mirror images only).");

    public void AddTo(Command c)
    {
        DataOptions.AddTo(c);
        foreach (Option o in new Option[] { Out, Arch, Heads, Epochs, FreezeEpochs, Lr, LrMult, Wd, Batch, Size, Weights, LossWeights, Patience, Seed, Threads, MaxBatches, Export, Resume, Init, Oversample, DropLabels, DistillKeypoints, HeadsOnly, NoAugment, Augment, MaskStride, MaskWidth, PointHead, KeepKeypoints, KeepFrom, GuideKeypoints, PoseFrame, PoseHead, PoseBlocks, ValueHead, MultiLabel, SingleLabel, Threshold, YRange, Steady, SteadySigma, PoseLoss })
        {
            c.Options.Add(o);
        }
    }

    public TrainRequest Read(ParseResult r, bool outRequired) => new()
    {
        Data = DataOptions.Read(r, r.GetValue(Seed)),
        MultiLabel = r.GetValue(MultiLabel) && r.GetValue(SingleLabel)
            ? throw new ArgumentException("options --multi-label and --single-label: give one")
            : r.GetValue(MultiLabel) ? true : r.GetValue(SingleLabel) ? false : null,
        YRange = r.GetValue(YRange) is { } y ? RangeOf(y) : null,
        Arch = r.GetValue(Arch) ?? "blazeface",
        Heads = CliArgs.List(r.GetValue(Heads) ?? "center"),
        Size = r.GetValue(Size),
        Weights = r.GetValue(Weights),
        Out = r.GetValue(Out) ?? (outRequired ? throw new ArgumentException("option --out is required") : "lr-find"),
        Export = r.GetValue(Export),
        Resume = r.GetValue(Resume),
        Init = r.GetValue(Init),
        Oversample = r.GetValue(Oversample) is { } os ? OversampleOf(os) : new Dictionary<string, int>(),
        DropLabels = r.GetValue(DropLabels) is { } dl
            ? [.. CliArgs.List(dl).Select(p => p.LastIndexOf('=') is > 0 and var cut ? (p[..cut], p[(cut + 1)..]) : throw new ArgumentException($"option --drop-labels: '{p}' is not DATA=KIND"))]
            : [],
        DistillKeypoints = r.GetValue(DistillKeypoints) is { } dk ? CliArgs.List(dk) : [],
        HeadsOnly = r.GetValue(HeadsOnly) is { } ho ? CliArgs.List(ho) : [],
        MaskStride = r.GetValue(MaskStride) is > 0 and var ms ? ms : null,
        MaskWidth = r.GetValue(MaskWidth),
        PointLocators = r.GetValue(PointHead) is { } ph ? LocatorsOf(ph) : new Dictionary<string, string>(),
        KeepKeypoints = r.GetValue(KeepKeypoints),
        KeepFrom = r.GetValue(KeepFrom),
        GuideKeypoints = r.GetValue(GuideKeypoints),
        PoseFrame = r.GetValue(PoseFrame) is { } pf
            ? pf is "ray" or "camera" ? pf : throw new ArgumentException($"option --pose-frame: '{pf}' is not ray or camera")
            : null,
        PoseLocator = r.GetValue(PoseHead) is { } poh
            ? poh is "regress" or "anchor" ? poh : throw new ArgumentException($"option --pose-head: '{poh}' is not regress or anchor")
            : null,
        PoseBlocks = r.GetValue(PoseBlocks) is > 0 and var pb && r.GetValue(PoseHead) != "anchor"
            ? throw new ArgumentException($"option --pose-blocks: {pb} blocks need --pose-head anchor")
            : r.GetValue(PoseBlocks),
        ValueLocator = r.GetValue(ValueHead) is { } vh
            ? vh is "pooled" or "density" ? vh : throw new ArgumentException($"option --value-head: '{vh}' is not pooled or density")
            : null,
        Options = new TrainOptions
        {
            Epochs = r.GetValue(Epochs),
            FreezeEpochs = r.GetValue(FreezeEpochs),
            BatchSize = r.GetValue(Batch),
            Lr = r.GetValue(Lr),
            LrMult = r.GetValue(LrMult),
            WeightDecay = r.GetValue(Wd),
            Patience = r.GetValue(Patience),
            Seed = r.GetValue(Seed),
            Threads = r.GetValue(Threads),
            MaxBatches = r.GetValue(MaxBatches),
            LossWeights = r.GetValue(LossWeights) is { } w ? WeightsOf(w) : [],
            Augment = AugmentOf(r.GetValue(NoAugment) ? "none" : r.GetValue(Augment) ?? "default"),
            Threshold = r.GetValue(Threshold),
            Steady = r.GetValue(Steady) is > 0 and var st && !CliArgs.List(r.GetValue(Heads) ?? "center").Any(h => h is "pose" or "center")
                ? throw new ArgumentException($"option --steady: {st} weighs the change of the pose and center heads under noise; --heads has neither")
                : r.GetValue(Steady),
            SteadySigma = r.GetValue(SteadySigma) is var ss && ss != 4 && r.GetValue(Steady) == 0
                ? throw new ArgumentException($"option --steady-sigma: {ss} grey levels need --steady W (a weight above 0)")
                : r.GetValue(SteadySigma),
            PoseLoss = PoseLossOf(r.GetValue(PoseLoss), CliArgs.List(r.GetValue(Heads) ?? "center")),
        },
    };

        private static float[] RangeOf(string text)
        {
            string[] parts = CliArgs.List(text);
            if (parts.Length == 2
                && float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float lo)
                && float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float hi)
                && float.IsFinite(lo) && float.IsFinite(hi) && hi > lo)
            {
                return [lo, hi];
            }

            throw new ArgumentException($"option --y-range: '{text}' is not LOW,HIGH with LOW < HIGH");
        }

        private static AugmentOptions AugmentOf(string name) => name switch
        {
            "default" => new AugmentOptions(),
            "none" => AugmentOptions.None,
            // Geometry that keeps every object whole: flips and small rotations, no crop, zoom or shift.
            "no-crop" => new AugmentOptions { CropProbability = 0, MaxZoom = 1, MaxShift = 0, MaxRotate = 10 },
            // Mirror images only: for small, centred, upright objects (Fashion-MNIST), where any other
            // change costs more than it teaches.
            "flip" => AugmentOptions.None with { FlipProbability = 0.5 },
            _ => throw new ArgumentException($"option --augment: '{name}' is not one of: default, none, no-crop, flip"),
        };

        /// <summary>--point-head: one locator for the center and keypoints heads, or KIND=LOCATOR pairs.</summary>
        internal static Dictionary<string, string> LocatorsOf(string text)
        {
            string Checked(string l) => l is "regress" or "heatmap" or "anchor" ? l : throw new ArgumentException($"option --point-head: '{l}' is not regress, heatmap or anchor");
            if (!text.Contains('=', StringComparison.Ordinal))
            {
                string l = Checked(text.Trim());
                return new() { ["center"] = l, ["keypoints"] = l };
            }

            return CliArgs.List(text).Select(p => p.Split('=')).ToDictionary(
                p => p.Length == 2 && p[0] is "center" or "keypoints" ? p[0] : throw new ArgumentException($"option --point-head: '{string.Join("=", p)}' is not KIND=LOCATOR with KIND center or keypoints"),
                p => Checked(p[1]));
        }

        private static Dictionary<string, int> OversampleOf(string text) =>
            CliArgs.List(text).Select(p => (Cut: p.LastIndexOf('='), Text: p)).ToDictionary(
                p => p.Cut > 0 ? p.Text[..p.Cut] : throw new ArgumentException($"option --oversample: '{p.Text}' is not DATA=N"),
                p => int.TryParse(p.Text[(p.Cut + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= 1000 ? n : throw new ArgumentException($"option --oversample: '{p.Text[(p.Cut + 1)..]}' in '{p.Text}' is not a whole number from 1 to 1000"));

        private static string PoseLossOf(string? name, string[] heads) => name switch
        {
            null or PoseLosses.Squared => PoseLosses.Squared,
            PoseLosses.Angle when !heads.Contains("pose") => throw new ArgumentException($"option --pose-loss: {name} is the pose head's loss; --heads has no pose"),
            PoseLosses.Angle => PoseLosses.Angle,
            _ => throw new ArgumentException($"option --pose-loss: '{name}' is not {PoseLosses.Squared} or {PoseLosses.Angle}"),
        };

        private static Dictionary<string, double> WeightsOf(string text) =>
            CliArgs.List(text).Select(p => p.Split('=')).ToDictionary(
                p => p.Length == 2 && ModelConfig.HeadKinds.Contains(p[0]) ? p[0] : throw new ArgumentException($"option --loss-weights: '{string.Join("=", p)}' is not KIND=WEIGHT with KIND one of {string.Join(", ", ModelConfig.HeadKinds)}"),
                p => double.TryParse(p[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double w) && w >= 0 ? w : throw new ArgumentException($"option --loss-weights: weight '{p[1]}' is not a number"));
}
