using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Training;

/// <summary>What `headtracker-train train` was asked to do.</summary>
internal sealed record TrainRequest
{
    /// <summary>The data set, its layout and how to split it.</summary>
    public DataSpec Data { get; init; } = new();

    public string Arch { get; init; } = "blazeface";

    public IReadOnlyList<string> Heads { get; init; } = ["center"];

    public int Size { get; init; }

    /// <summary>Pretrained backbone weights; null: the default (BlazeFace's for blazeface);
    /// "none": random.</summary>
    public string? Weights { get; init; }

    public string Out { get; init; } = "run";

    public string? Export { get; init; }

    public bool Resume { get; init; }

    /// <summary>Start from this earlier run's checkpoint (a run or checkpoint folder): its backbone
    /// and each head it has in the same form, over the pretrained weights; the optimiser and
    /// schedule start afresh.</summary>
    public string? Init { get; init; }

    /// <summary>Training items loaded from one --data entry (a folder or labels file) appear this
    /// many times an epoch (validation is left as it is).</summary>
    public IReadOnlyDictionary<string, int> Oversample { get; init; } = new Dictionary<string, int>();

    /// <summary>(--data entry, head kind): the training items from that entry lose that label, so
    /// the head learns it from the other entries only (e.g. keypoints from real faces only).</summary>
    public IReadOnlyList<(string Source, string Kind)> DropLabels { get; init; } = [];

    /// <summary>--data entries whose training items train the heads but not the backbone.</summary>
    public IReadOnlyList<string> HeadsOnly { get; init; } = [];

    /// <summary>--data entries whose training items take their keypoint labels from the model's
    /// keypoint head as it starts (see <see cref="TrainRun.DistillKeypoints"/>).</summary>
    public IReadOnlyList<string> DistillKeypoints { get; init; } = [];

    /// <summary>The class head is multi-label (sigmoid + BCE); null: when some item has several labels.</summary>
    public bool? MultiLabel { get; init; }

    /// <summary>center, keypoints and value heads: the output range (fastai's y_range).</summary>
    public float[]? YRange { get; init; }

    /// <summary>Mask head: the finest feature stride it decodes to (null: the backbone's finest).</summary>
    public int? MaskStride { get; init; }

    /// <summary>center and keypoints heads: regress, heatmap or anchor, by head kind (missing: regress).</summary>
    public IReadOnlyDictionary<string, string> PointLocators { get; init; } = new Dictionary<string, string>();

    /// <summary>--keep-keypoints: <see cref="ModelConfig.KeepKeypoints"/>.</summary>
    public bool KeepKeypoints { get; init; }

    /// <summary>--keep-from: <see cref="ModelConfig.KeepKeypointsFrom"/> (0: not given).</summary>
    public int KeepFrom { get; init; }

    /// <summary>--guide-keypoints: <see cref="ModelConfig.GuideKeypoints"/>.</summary>
    public bool GuideKeypoints { get; init; }

    /// <summary>Mask head: channels of its decoder.</summary>
    public int MaskWidth { get; init; } = 32;

    /// <summary>Value head: pooled or density (null: pooled).</summary>
    public string? ValueLocator { get; init; }

    /// <summary>Pose head: ray or camera (null: ray).</summary>
    public string? PoseFrame { get; init; }

    /// <summary>pose head: "regress" or "anchor" (<see cref="HeadConfig.Locator"/>); null: regress.</summary>
    public string? PoseLocator { get; init; }

    /// <summary>Anchor pose head: residual blocks of its own on each map (<see cref="HeadConfig.Blocks"/>); 0: none.</summary>
    public int PoseBlocks { get; init; }

    public TrainOptions Options { get; init; } = new();
}

/// <summary>
/// A training run from data folders to a checkpoint, a table of epochs, metrics.jsonl, plots,
/// a results grid and an exported ONNX model, all in the run folder.
/// </summary>
internal static class TrainRun
{
    public const string CheckpointDir = "checkpoint";

    /// <summary>Loads the data set and splits it (see <see cref="DataSpec.LoadSplit"/>).</summary>
    /// <exception cref="InvalidDataException">No data, or too little to train and validate.</exception>
    public static (Dataset All, List<DataItem> Train, List<DataItem> Valid) LoadData(TrainRequest r, TextWriter log)
    {
        (Dataset all, List<DataItem> train, List<DataItem> valid) = r.Data.LoadSplit();
        log.WriteLine($"Data: {train.Count} train, {valid.Count} valid from {all.Source} ({r.Data.Format}); {all.Skipped}");
        foreach ((string source, string kind) in r.DropLabels)
        {
            int dropped = 0;
            foreach (int k in FromEntry(r, train, source, "--drop-labels"))
            {
                HeadLabel l = train[k].Label;
                HeadLabel without = kind switch
                {
                    "center" => l with { Center = null, CenterNorm = null },
                    "keypoints" => l with { Keypoints = null },
                    "box" => l with { Box = null },
                    "pose" => l with { Pose = null },
                    "mask" => l with { Mask = null },
                    _ => throw new ArgumentException($"option --drop-labels: '{kind}' is not one of center, keypoints, box, pose, mask"),
                };
                dropped += without == l ? 0 : 1;
                train[k] = train[k] with { Label = without };
            }

            log.WriteLine($"Dropped the {kind} labels of {dropped} training items from {source}");
        }

        foreach (string source in r.HeadsOnly)
        {
            int[] items = FromEntry(r, train, source, "--heads-only");
            foreach (int k in items)
            {
                train[k] = train[k] with { HeadsOnly = true };
            }

            log.WriteLine($"Heads only: the losses of {items.Length} training items from {source} train the heads, not the backbone");
        }

        foreach ((string source, int times) in r.Oversample)
        {
            List<DataItem> from = [.. FromEntry(r, train, source, "--oversample").Select(k => train[k])];
            for (int k = 1; k < times; k++)
            {
                train.AddRange(from);
            }

            log.WriteLine($"Oversampled: {from.Count} training items from {source} x{times} ({train.Count} training items an epoch)");
        }

        return (all, train, valid);
    }

    /// <summary>
    /// Replaces the keypoint labels of <paramref name="source"/>'s training items with the
    /// model's own keypoints on each unaugmented image (letterboxed as the runtime does, mapped
    /// back to image pixels), before any training: learning then holds the keypoint head where
    /// it starts on those images (learning without forgetting, as labels) while the other
    /// entries' labels teach it. Returns the line for the log.
    /// </summary>
    /// <exception cref="ArgumentException">--resume (the start is gone), no keypoint head, or not a --data entry.</exception>
    public static string DistillKeypoints(TrainRequest r, MultiHeadNet model, List<DataItem> train, string source, string[] classes)
    {
        if (r.Resume)
        {
            throw new ArgumentException("options --distill-keypoints and --resume: the labels come from the model as it starts, which a resumed run no longer has (they are not saved); run it again from the start");
        }

        int head = model.Config.Heads.FindIndex(h => h.Kind == Runtime.Contract.OutputKinds.Keypoints);
        if (head < 0)
        {
            throw new ArgumentException("option --distill-keypoints: the model has no keypoints head (--heads)");
        }

        int[] indexes = FromEntry(r, train, source, "--distill-keypoints");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<DataItem> unique = [.. indexes.Select(k => train[k]).Where(item => seen.Add(item.ImagePath!))];
        var batches = new Batcher(unique, model.Config, model.Backbone.Preprocessing, classes);
        var points = new Dictionary<string, double[][]>(StringComparer.Ordinal);
        int done = 0;
        bool wasTraining = model.training;
        model.eval();
        using (no_grad())
        {
            foreach (Batch batch in batches.Epoch(r.Options.BatchSize, 0, r.Options.Seed, AugmentOptions.None, shuffle: false))
            {
                using var pause = GcPause.Begin(); // TorchSharp's temporary Scalars: see GcPause
                using var scope = NewDisposeScope();
                int s = batch.Size;
                float[] o = model.forward(tensor(batch.Images, [batch.Count, 3, s, s]))[head].contiguous().data<float>().ToArray();
                int n = o.Length / batch.Count / 2;
                for (int i = 0; i < batch.Count; i++, done++)
                {
                    DataItem item = unique[done];
                    (int w, int h) = item.Label is { Width: > 0, Height: > 0 } l ? (l.Width, l.Height) : SizeOf(item);
                    Runtime.Contract.InputTransform.Fitted fit = Runtime.Contract.InputTransform.Fit(w, h, s, s);
                    var kps = new double[n][];
                    for (int j = 0; j < n; j++)
                    {
                        // Output in [-1, 1] over the input; input = image * scale + pad.
                        float u = (o[((i * n) + j) * 2] + 1) / 2 * s, v = (o[(((i * n) + j) * 2) + 1] + 1) / 2 * s;
                        double x = (u - fit.PadX) / fit.ScaleX, y = (v - fit.PadY) / fit.ScaleY;
                        kps[j] = [Math.Round(x, 2), Math.Round(y, 2), x >= 0 && y >= 0 && x < w && y < h ? 1 : 0];
                    }

                    points[item.ImagePath!] = kps;
                }
            }
        }

        model.train(wasTraining);
        foreach (int k in indexes)
        {
            train[k] = train[k] with { Label = train[k].Label with { Keypoints = points[train[k].ImagePath!] } };
        }

        return $"Keypoints of {indexes.Length} training items from {source} ({unique.Count} images): the keypoint head's own, as it starts";
    }

    private static (int Width, int Height) SizeOf(DataItem item)
    {
        using OpenCvSharp.Mat image = item.Load();
        return (image.Width, image.Height);
    }

    /// <summary>Indexes of the items loaded from one --data entry (a folder, or a labels file's folder).</summary>
    /// <exception cref="ArgumentException">It is not one of the --data entries; the message names <paramref name="option"/>.</exception>
    private static int[] FromEntry(TrainRequest r, List<DataItem> items, string source, string option)
    {
        if (!r.Data.Paths.Any(p => Path.GetFullPath(p) == Path.GetFullPath(source)))
        {
            throw new ArgumentException($"option {option}: '{source}' is not one of the --data entries ({string.Join(", ", r.Data.Paths)})");
        }

        string folder = Path.GetFullPath(Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!);
        string prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        return [.. Enumerable.Range(0, items.Count).Where(k => items[k].ImagePath is { } path && Path.GetFullPath(path).StartsWith(prefix, StringComparison.Ordinal))];
    }

    /// <summary>The model a request asks for, fitted to its data: class names, segmentation codes,
    /// keypoint names and value statistics come from the data set, multi-label from the request
    /// or, when not said, from whether any item carries several labels.</summary>
    /// <exception cref="InvalidDataException">A head has nothing to learn from.</exception>
    public static ModelConfig Configure(TrainRequest r, Dataset all, IReadOnlyList<DataItem> train, TextWriter log)
    {
        string[] classes = all.Classes.Count > 0 ? [.. all.Classes] : [.. all.Items.SelectMany(i => i.Label.Classes ?? []).Distinct().Order(StringComparer.Ordinal)];
        bool multiLabel = r.MultiLabel ?? all.Items.Any(i => i.Label.Classes is { Length: > 1 });
        if (multiLabel && r.MultiLabel == null && r.Heads.Contains("class"))
        {
            log.WriteLine("Class head: multi-label (some items carry several labels): a sigmoid per class, binary cross-entropy, accuracy_multi");
        }

        string[]? keypointNames = all.Items.Select(i => i.Label.KeypointNames).FirstOrDefault(n => n != null);
        (string[], float[], float[])? values = null;
        if (all.ValueNames.Count > 0)
        {
            // Statistics of the training targets only: validation stays unseen.
            double[][] v = [.. train.Select(i => i.Label.Values).Where(x => x != null && x.Length == all.ValueNames.Count)!];
            float[] mean = [.. Enumerable.Range(0, all.ValueNames.Count).Select(j => v.Length == 0 ? 0f : (float)v.Average(x => x[j]))];
            float[] std = [.. Enumerable.Range(0, all.ValueNames.Count).Select(j => v.Length < 2 ? 1f : (float)Math.Sqrt(v.Average(x => Math.Pow(x[j] - mean[j], 2))))];
            values = ([.. all.ValueNames], mean, std);
        }

        var config = new ModelConfig
        {
            Name = Path.GetFileName(Path.GetFullPath(r.Out)),
            Backbone = r.Arch,
            InputSize = r.Size,
            KeepKeypoints = r.KeepKeypoints,
            KeepKeypointsFrom = r.KeepFrom == KeptKeypointPath.Strides[0] ? 0 : r.KeepFrom, // 4 is the default: one config, one JSON
            GuideKeypoints = r.GuideKeypoints,
            Heads = [.. r.Heads.Select(h => HeadConfig.Of(h, classes, multiLabel, r.MaskStride, r.MaskWidth, r.PointLocators.GetValueOrDefault(h), [.. all.MaskCodes], values, r.YRange, r.ValueLocator, r.PoseFrame, r.PoseLocator, r.PoseBlocks) with
            {
                KeypointNames = h == "keypoints" ? keypointNames : null,
            })],
        };
        config.Validate("options --arch/--heads");
        CheckHeads(config, train, all.Source);
        return config;
    }

    /// <summary>Fails before training when a head has no labels to learn from.</summary>
    public static void CheckHeads(ModelConfig config, IReadOnlyList<DataItem> train, string source)
    {
        foreach (HeadConfig h in config.Heads)
        {
            Func<HeadLabel, bool> has = h.Kind switch
            {
                "center" => l => l.CenterNorm != null,
                "keypoints" => l => l.Keypoints != null,
                "box" => l => l.Box != null,
                "pose" => l => l.Pose != null,
                "mask" => l => l.Mask != null,
                "class" => l => l.Classes is { Length: > 0 },
                "value" => l => l.Values != null,
                _ => _ => false,
            };
            if (!train.Any(i => has(i.Label)))
            {
                throw new InvalidDataException($"head '{h.OutputName}' needs {h.Kind} labels, and none of the {train.Count} training items in {source} has one");
            }
        }
    }

    public static int Run(TrainRequest r, TextWriter log)
    {
        if (r.Init != null && r.Resume)
        {
            throw new ArgumentException("options --init and --resume: give one (--resume carries on a stopped run; --init starts a new run from a finished one)");
        }

        (Dataset all, List<DataItem> trainItems, List<DataItem> validItems) = LoadData(r, log);
        ModelConfig config = Configure(r, all, trainItems, log);
        string[] classes = config.Heads.FirstOrDefault(h => h.Kind == "class")?.ClassNames ?? [];

        string checkpoint = Path.Combine(r.Out, CheckpointDir);
        log.WriteLine($"libtorch's oneDNN kernels: {TorchSettings.LimitOneDnn()} ({TorchSettings.Variable}); idle OpenMP threads: {TorchSettings.QuietOpenMp()} ({TorchSettings.WaitPolicyVariable}); freed memory: {TorchSettings.KeepFreedMemory()}; README: Debugging problems");
        manual_seed(r.Options.Seed);
        MultiHeadNet model = r.Resume ? Checkpoint.Load(checkpoint) : new MultiHeadNet(config);
        if (!r.Resume && r.Weights != "none" && (r.Weights != null || r.Arch == "blazeface"))
        {
            string weights = r.Weights ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
            PretrainedBackbone.Log(log, weights, PretrainedBackbone.Load(model, weights));
        }

        if (r.Init != null)
        {
            log.WriteLine(Checkpoint.LoadWeightsInto(model, r.Init));
        }

        if (model.Kept != null)
        {
            if (r.Weights == "none" && !r.Resume && r.Init == null)
            {
                throw new ArgumentException("options --keep-keypoints and --weights none: the keypoint path is kept as imported, so it needs BlazeFace's weights");
            }

            log.WriteLine($"--keep-keypoints: BlazeFace's keypoint path is kept as it starts ({model.KeptParameters.Sum(p => p.numel())} parameters never train: the stem, blocks 0-{model.Kept.From - 1}, a copy of the blocks after them, the keypoint head); the other heads learn on the backbone's blocks {model.Kept.From}-{BlazeFaceBackbone.Blocks.Length - 1}");
            if (model.Guide != null)
            {
                log.WriteLine($"--guide-keypoints: a second keypoint head ({model.Guide.parameters().Sum(p => p.numel())} parameters) learns from the keypoint labels on blocks {model.Kept.From}-{BlazeFaceBackbone.Blocks.Length - 1} during training; it is not exported");
            }
        }

        if (r.Resume && model.Config.ToJson() != config.ToJson())
        {
            throw new ArgumentException($"--resume: {checkpoint} holds a different model ({model.Config.Backbone}, heads {string.Join(",", model.Config.Heads.Select(h => h.Kind))})");
        }

        foreach (string source in r.DistillKeypoints)
        {
            log.WriteLine(DistillKeypoints(r, model, trainItems, source, classes));
        }

        var pre = model.Backbone.Preprocessing;
        var train = new Batcher(trainItems, model.Config, pre, classes);
        var valid = new Batcher(validItems, model.Config, pre, classes);
        using var learner = new Learner(model, train, valid, r.Options);
        if (!learner.Learns)
        {
            throw new ArgumentException("option --keep-keypoints: every head of this model is kept as imported, so nothing would learn; add a head that trains (--heads), or leave the option out");
        }

        if (r.Resume)
        {
            learner.Restore(checkpoint);
            log.WriteLine($"Resuming after epoch {learner.State.EpochsDone} from {checkpoint}");
        }

        Directory.CreateDirectory(r.Out);
        var table = new EpochTable(log, [.. model.Config.Heads.SelectMany(MetricNames), .. r.Options.Steady > 0 ? new[] { "steady_deg", "steady_px" } : []]);
        if (r.Resume)
        {
            learner.State.History.ForEach(table.Row);
        }

        string metricsFile = Path.Combine(r.Out, "metrics.jsonl");
        if (!r.Resume)
        {
            File.Delete(metricsFile); // a new run in an old run's folder: its epochs only
        }

        learner.Progress += (step, total, loss) => ProgressBar(step, total, loss);
        learner.EpochEnded += result =>
        {
            table.Row(result);
            File.AppendAllText(metricsFile, JsonSerializer.Serialize(result, s_json) + "\n");
            learner.SaveCheckpoint(checkpoint);
            LossPlot.Write(Path.Combine(r.Out, "losses.png"), learner.State.History);
        };

        int freezeEpochs = r.Options.FreezeEpochs;
        if (freezeEpochs > 0 && !learner.LearnsWhileFrozen)
        {
            log.WriteLine($"--freeze-epochs {freezeEpochs}: every head starts pretrained with the backbone, so nothing would learn while it is frozen; those epochs are left out (all layers train for --epochs {r.Options.Epochs})");
            freezeEpochs = 0;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        learner.FineTune(freezeEpochs, r.Options.Epochs, r.Options.Lr);
        EpochResult last = learner.State.History[^1];
        WriteResults(learner, Path.Combine(r.Out, "results.png"), r.Options.Threshold);

        string export = r.Export ?? Path.Combine(r.Out, "model.onnx");
        model.eval();
        var recipe = new Dictionary<string, string>
        {
            ["data"] = string.Join(",", r.Data.Paths),
            ["format"] = r.Data.Format,
            ["train_items"] = trainItems.Count.ToString(CultureInfo.InvariantCulture),
            ["valid_items"] = validItems.Count.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = $"{freezeEpochs} frozen + {r.Options.Epochs}",
            ["lr"] = r.Options.Lr.ToString(CultureInfo.InvariantCulture),
            ["lr_mult"] = r.Options.LrMult.ToString(CultureInfo.InvariantCulture),
            ["wd"] = r.Options.WeightDecay.ToString(CultureInfo.InvariantCulture),
            ["batch"] = r.Options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["seed"] = r.Options.Seed.ToString(CultureInfo.InvariantCulture),
        };
        if (r.Options.Steady > 0)
        {
            recipe["steady"] = string.Create(CultureInfo.InvariantCulture, $"{r.Options.Steady} (noise sigma up to {r.Options.SteadySigma} grey levels)");
        }

        if (r.Options.PoseLoss != PoseLosses.Squared)
        {
            recipe["pose_loss"] = r.Options.PoseLoss;
        }

        if (r.Init != null)
        {
            recipe["init"] = r.Init;
        }

        if (r.DropLabels.Count > 0)
        {
            recipe["drop_labels"] = string.Join(",", r.DropLabels.Select(d => $"{d.Source}={d.Kind}"));
        }

        if (r.HeadsOnly.Count > 0)
        {
            recipe["heads_only"] = string.Join(",", r.HeadsOnly);
        }

        if (r.DistillKeypoints.Count > 0)
        {
            recipe["distill_keypoints"] = string.Join(",", r.DistillKeypoints);
        }

        if (r.Oversample.Count > 0)
        {
            recipe["oversample"] = string.Join(",", r.Oversample.Select(o => $"{o.Key}={o.Value}"));
        }

        if (model.Kept != null)
        {
            recipe["keep_keypoints"] = "true";
            if (model.Config.KeepKeypointsFrom != 0)
            {
                recipe["keep_from"] = model.Config.KeepKeypointsFrom.ToString(CultureInfo.InvariantCulture);
            }

            if (model.Guide != null)
            {
                recipe["guide_keypoints"] = "true";
            }
        }

        if (r.Options.LossWeights.Count > 0)
        {
            recipe["loss_weights"] = string.Join(",", r.Options.LossWeights.Select(o => $"{o.Key}={o.Value.ToString(CultureInfo.InvariantCulture)}"));
        }
        OnnxFile.Save(OnnxExporter.Build(model, new OnnxExportOptions { FoldBatchNorm = true }, recipe, last.Metrics.ToDictionary()), export);
        if (GcPause.Interrupted > 0)
        {
            log.WriteLine($"Note: {GcPause.Interrupted} training steps ran without the no-GC region that guards TorchSharp's temporary Scalars (the budget ran out or could not be reserved); see Training/GcPause.cs.");
        }

        log.WriteLine($"Done in {clock.Elapsed.TotalMinutes:F1} min. Run folder {Path.GetFullPath(r.Out)}: {CheckpointDir}/, metrics.jsonl, losses.png, results.png; model {Path.GetFullPath(export)}");
        model.Dispose();
        return 0;
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The metrics a head's column shows in the epoch table (metrics.jsonl holds more:
    /// per-label F1, per-class IoU, per-value error).</summary>
    internal static IEnumerable<string> MetricNames(HeadConfig h) => h.Kind switch
    {
        "center" => ["center_mse", "center_px"],
        "keypoints" => ["keypoint_nme"],
        "box" => ["box_iou"],
        "pose" => ["yaw_mae", "pitch_mae", "roll_mae"],
        "mask" when h.ClassNames is { Length: > 1 } => ["pixel_accuracy", "mean_iou"],
        "mask" => ["mask_iou"],
        "class" when h.MultiLabel => ["accuracy_multi", "f1_macro"],
        "class" => ["error_rate", "accuracy"],
        "value" => ["value_mae", "value_exact"],
        _ => [],
    };

    private static void ProgressBar(int step, int total, double loss)
    {
        if (Console.IsErrorRedirected)
        {
            return;
        }

        int width = 30, done = step * width / Math.Max(1, total);
        Console.Error.Write($"\r  [{new string('#', done)}{new string('.', width - done)}] {step}/{total} loss {loss:F5}   ");
        if (step == total)
        {
            Console.Error.Write('\r' + new string(' ', width + 40) + '\r');
        }
    }

    /// <summary>Validation samples, truth beside prediction.</summary>
    private static void WriteResults(Learner learner, string path, double threshold)
    {
        var grid = new ResultsGrid(learner.Model.Config, learner.Model.Backbone.Preprocessing, threshold);
        learner.Validate((batch, outputs) => grid.Add(batch, ResultsGrid.Arrays(outputs)), maxBatches: (24 + learner.BatchSize - 1) / learner.BatchSize);
        grid.Write(path);
    }
}

/// <summary>The fastai-like table: a header once, a row per epoch.</summary>
internal sealed class EpochTable(TextWriter log, string[] metrics)
{
    private bool _header;

    public void Row(EpochResult r)
    {
        if (!_header)
        {
            log.WriteLine(string.Join("  ", new[] { "epoch", "phase ", "train_loss", "valid_loss" }.Concat(metrics.Select(m => m.PadLeft(10))).Append("time")));
            _header = true;
        }

        string cells = string.Join("  ", metrics.Select(m => (r.Metrics.TryGetValue(m, out double v) ? Format(v) : "-").PadLeft(Math.Max(10, m.Length))));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Epoch,5}  {r.Phase,-6}  {Format(r.TrainLoss),10}  {Format(r.ValidLoss),10}  {cells}  {TimeSpan.FromSeconds(r.Seconds):mm\\:ss}"));
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 0.01 || v == 0 ? v.ToString("F4", CultureInfo.InvariantCulture) : v.ToString("E2", CultureInfo.InvariantCulture);
}
