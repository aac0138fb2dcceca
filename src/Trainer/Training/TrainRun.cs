using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracker.Runtime.Pose;
using HeadTracker.Trainer.Data;
using HeadTracker.Trainer.Data.Loaders;
using HeadTracker.Trainer.Models;
using HeadTracker.Trainer.Onnx;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracker.Trainer.Training;

/// <summary>What `headtracker-train train` was asked to do.</summary>
internal sealed record TrainRequest
{
    public IReadOnlyList<string> Data { get; init; } = [];

    public string Arch { get; init; } = "blazeface";

    public IReadOnlyList<string> Heads { get; init; } = ["center"];

    public int Size { get; init; }

    /// <summary>Pretrained backbone weights; null: the default (BlazeFace's for blazeface);
    /// "none": random.</summary>
    public string? Weights { get; init; }

    public string Out { get; init; } = "run";

    public string? Export { get; init; }

    public bool Resume { get; init; }

    public IReadOnlyList<string> ValidGroups { get; init; } = [];

    /// <summary>Mask head: the finest feature stride it decodes to (null: the backbone's finest).</summary>
    public int? MaskStride { get; init; }

    /// <summary>center and keypoints heads: regress or heatmap (null: regress).</summary>
    public string? PointLocator { get; init; }

    /// <summary>Mask head: channels of its decoder.</summary>
    public int MaskWidth { get; init; } = 32;

    public TrainOptions Options { get; init; } = new();
}

/// <summary>
/// A training run from data folders to a checkpoint, a table of epochs, metrics.jsonl, plots,
/// a results grid and an exported ONNX model, all in the run folder.
/// </summary>
internal static class TrainRun
{
    public const string CheckpointDir = "checkpoint";

    /// <summary>Loads every data folder's labels.jsonl and splits train/valid: the data's own
    /// split when it has one, else by identity (named groups, or 10% of them at random).</summary>
    /// <exception cref="InvalidDataException">No data, or too little to train and validate.</exception>
    public static (List<DataItem> Train, List<DataItem> Valid, SkipReport Skipped) LoadData(TrainRequest r, TextWriter log)
    {
        var items = new List<DataItem>();
        var skipped = new SkipReport();
        foreach (string folder in r.Data)
        {
            string labels = Directory.Exists(folder) ? Path.Combine(folder, LabelsFile.FileName) : folder;
            Dataset d = Loaders.Jsonl(labels);
            items.AddRange(d.Items);
            foreach (string s in d.Skipped.First)
            {
                skipped.Add(s);
            }
        }

        var all = new Dataset(string.Join(",", r.Data), items, [], skipped);
        Dataset split = r.ValidGroups.Count > 0 ? Splitters.ByGroup(all, [.. r.ValidGroups])
            : items.Any(i => i.Label.Split == "valid") ? Splitters.ByColumn(all)
            : Splitters.ByGroup(all, validFraction: 0.1, seed: r.Options.Seed);
        List<DataItem> train = [.. split.Train], valid = [.. split.Valid];
        if (train.Count < 2 || valid.Count < 1)
        {
            throw new InvalidDataException($"--data {all.Source}: {train.Count} training and {valid.Count} validation items; need at least 2 and 1");
        }

        log.WriteLine($"Data: {train.Count} train, {valid.Count} valid from {all.Source}; {skipped}");
        return (train, valid, skipped);
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
        (List<DataItem> trainItems, List<DataItem> validItems, _) = LoadData(r, log);
        string[] classes = [.. trainItems.Concat(validItems).SelectMany(i => i.Label.Classes ?? []).Distinct().Order(StringComparer.Ordinal)];
        var config = new ModelConfig
        {
            Name = Path.GetFileName(Path.GetFullPath(r.Out)),
            Backbone = r.Arch,
            InputSize = r.Size,
            Heads = [.. r.Heads.Select(h => HeadConfig.Of(h, classes, maskStride: r.MaskStride, maskWidth: r.MaskWidth, locator: r.PointLocator))],
        };
        config.Validate("options --arch/--heads");
        CheckHeads(config, trainItems, string.Join(",", r.Data));

        string checkpoint = Path.Combine(r.Out, CheckpointDir);
        manual_seed(r.Options.Seed);
        MultiHeadNet model = r.Resume ? Checkpoint.Load(checkpoint) : new MultiHeadNet(config);
        if (!r.Resume && r.Weights != "none" && (r.Weights != null || r.Arch == "blazeface"))
        {
            string weights = r.Weights ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
            log.WriteLine($"Backbone weights from {weights}: {PretrainedBackbone.Load(model, weights)}");
        }

        if (r.Resume && model.Config.ToJson() != config.ToJson())
        {
            throw new ArgumentException($"--resume: {checkpoint} holds a different model ({model.Config.Backbone}, heads {string.Join(",", model.Config.Heads.Select(h => h.Kind))})");
        }

        var pre = model.Backbone.Preprocessing;
        var train = new Batcher(trainItems, model.Config, pre, classes);
        var valid = new Batcher(validItems, model.Config, pre, classes);
        using var learner = new Learner(model, train, valid, r.Options);
        if (r.Resume)
        {
            learner.Restore(checkpoint);
            log.WriteLine($"Resuming after epoch {learner.State.EpochsDone} from {checkpoint}");
        }

        Directory.CreateDirectory(r.Out);
        var table = new EpochTable(log, [.. model.Config.Heads.SelectMany(h => MetricNames(h.Kind, h.MultiLabel))]);
        if (r.Resume)
        {
            learner.State.History.ForEach(table.Row);
        }

        string metricsFile = Path.Combine(r.Out, "metrics.jsonl");
        learner.Progress += (step, total, loss) => ProgressBar(step, total, loss);
        learner.EpochEnded += result =>
        {
            table.Row(result);
            File.AppendAllText(metricsFile, JsonSerializer.Serialize(result, s_json) + "\n");
            learner.SaveCheckpoint(checkpoint);
            LossPlot.Write(Path.Combine(r.Out, "losses.png"), learner.State.History);
        };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        learner.FineTune(r.Options.FreezeEpochs, r.Options.Epochs, r.Options.Lr);
        EpochResult last = learner.State.History[^1];
        ResultsGrid(learner, Path.Combine(r.Out, "results.png"));

        string export = r.Export ?? Path.Combine(r.Out, "model.onnx");
        model.eval();
        var recipe = new Dictionary<string, string>
        {
            ["data"] = string.Join(",", r.Data),
            ["train_items"] = trainItems.Count.ToString(CultureInfo.InvariantCulture),
            ["valid_items"] = validItems.Count.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = $"{r.Options.FreezeEpochs} frozen + {r.Options.Epochs}",
            ["lr"] = r.Options.Lr.ToString(CultureInfo.InvariantCulture),
            ["batch"] = r.Options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["seed"] = r.Options.Seed.ToString(CultureInfo.InvariantCulture),
        };
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

    internal static IEnumerable<string> MetricNames(string kind, bool multiLabel) => kind switch
    {
        "center" => ["center_mse", "center_px"],
        "keypoints" => ["keypoint_nme"],
        "box" => ["box_iou"],
        "pose" => ["yaw_mae", "pitch_mae", "roll_mae"],
        "mask" => ["mask_iou"],
        "class" => [multiLabel ? "accuracy_multi" : "error_rate"],
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
    private static void ResultsGrid(Learner learner, string path)
    {
        var tiles = new List<(Mat, Mat?, HeadLabel)>();
        try
        {
            learner.Validate((batch, outputs) =>
            {
                for (int i = 0; i < batch.Count && tiles.Count < 24; i++)
                {
                    Mat image = Denormalise(batch, i, learner.Model.Backbone.Preprocessing);
                    tiles.Add((image, null, batch.Labels[i]));
                    tiles.Add((image.Clone(), null, Predicted(learner.Model.Config, outputs, i, batch.Size, batch.Labels[i])));
                }
            });
            ContactSheet.Write(path, tiles, columns: 6);
        }
        finally
        {
            foreach ((Mat image, _, _) in tiles)
            {
                image.Dispose();
            }
        }
    }

    private static Mat Denormalise(Batch b, int i, Models.Backbones.Preprocessing p)
    {
        int s = b.Size, plane = s * s;
        var pixels = new byte[plane * 3];
        for (int c = 0; c < 3; c++)
        {
            for (int q = 0; q < plane; q++)
            {
                double v = ((b.Images[(i * 3 * plane) + (c * plane) + q] * p.Std[c]) + p.Mean[c]) / p.Scale;
                pixels[(q * 3) + (2 - c)] = (byte)Math.Clamp(v, 0, 255);
            }
        }

        var image = new Mat(s, s, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, image.Data, pixels.Length);
        return image;
    }

    /// <summary>A model's outputs for sample i as a label in input pixels, for drawing.</summary>
    internal static HeadLabel Predicted(ModelConfig config, Tensor[] outputs, int i, int s, HeadLabel truth)
    {
        var l = new HeadLabel { Image = "prediction", Width = s, Height = s, Intrinsics = truth.Intrinsics };
        for (int h = 0; h < config.Heads.Count; h++)
        {
            float[] o = outputs[h][i].contiguous().data<float>().ToArray();
            double Px(float v) => (v + 1) * s / 2.0;
            l = config.Heads[h].Kind switch
            {
                "center" => l with { Center = [Px(o[0]), Px(o[1])] },
                "keypoints" => l with { Keypoints = [.. Enumerable.Range(0, o.Length / 2).Select(k => new[] { Px(o[k * 2]), Px(o[(k * 2) + 1]), 1.0 })] },
                "box" => l with { Box = [o[0] * s, o[1] * s, o[2] * s, o[3] * s] },
                "pose" => PoseOf(l, o, truth),
                _ => l,
            };
        }

        return l.Center == null && truth.Center != null ? l with { Center = truth.Center } : l;
    }

    private static HeadLabel PoseOf(HeadLabel l, float[] r, HeadLabel truth)
    {
        (double yaw, double pitch, double roll) = Rotation.ToEuler(r);
        return l with { Pose = new PoseLabel(yaw, pitch, roll, [.. r.Select(v => (double)v)], truth.Pose?.Translation) };
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
