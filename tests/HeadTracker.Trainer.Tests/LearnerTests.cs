using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Data.Loaders;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Synthesis;
using HeadTracking.Trainer.Training;
using TorchSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>A small synthetic data set at 64x64, written once for the class.</summary>
public sealed class SmallSynthData : IDisposable
{
    public SmallSynthData()
    {
        Dir = Repo.NewTempDir("learner-data");
        HeadSynthesizer synth = SynthWriter.Create(new SynthOptions { Size = 64, Seed = 5, ValidFraction = 0.25 }, new SynthWriter.Sources(), TextWriter.Null);
        SynthWriter.Write(synth, Path.Combine(Dir, "set"), 320, 2, TextWriter.Null);
    }

    public string Dir { get; }

    public string Set => Path.Combine(Dir, "set");

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public class LearnerTests(SmallSynthData data) : IClassFixture<SmallSynthData>
{
    private static readonly string[] s_heads = ["center", "keypoints", "box", "pose", "mask"];

    private (Learner Learner, MultiHeadNet Model) Build(TrainOptions options)
    {
        Dataset d = Splitters.ByColumn(Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)));
        var config = new ModelConfig { Backbone = "blazeface", InputSize = 64, Heads = [.. s_heads.Select(h => new HeadConfig { Kind = h })] };
        torch.manual_seed(options.Seed);
        var model = new MultiHeadNet(config);
        PretrainedBackbone.Load(model, Repo.BlazeFaceFront);
        var pre = model.Backbone.Preprocessing;
        var learner = new Learner(model, new Batcher([.. d.Train], config, pre, []), new Batcher([.. d.Valid], config, pre, []), options);
        return (learner, model);
    }

    [Fact]
    public void Fine_tuning_a_multi_head_model_improves_every_metric_and_the_export_runs()
    {
        var options = new TrainOptions { Epochs = 4, FreezeEpochs = 1, BatchSize = 16, Lr = 1e-2, Seed = 3, Threads = 2 };
        (Learner learner, MultiHeadNet model) = Build(options);
        using (learner)
        using (model)
        {
            (double lossBefore, IReadOnlyDictionary<string, double> before) = learner.Validate();
            var liveCounts = new List<long>();
            learner.EpochEnded += _ => liveCounts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            learner.FineTune(options.FreezeEpochs, options.Epochs, options.Lr);
            IReadOnlyDictionary<string, double> after = learner.State.History[^1].Metrics;

            Assert.True(learner.State.History[^1].ValidLoss < lossBefore * 0.7, $"valid loss {lossBefore} -> {learner.State.History[^1].ValidLoss}");
            foreach (string lower in new[] { "center_mse", "center_px", "keypoint_nme", "yaw_mae", "pitch_mae", "roll_mae" })
            {
                Assert.True(after[lower] < before[lower], $"{lower} did not improve: {before[lower]} -> {after[lower]}");
            }

            foreach (string higher in new[] { "box_iou", "mask_iou" })
            {
                Assert.True(after[higher] > before[higher], $"{higher} did not improve: {before[higher]} -> {after[higher]}");
            }

            // Memory stays flat: every step disposes what it made.
            Assert.Equal(5, liveCounts.Count);
            Assert.True(liveCounts[^1] <= liveCounts[1], $"live tensors grew across epochs: {string.Join(", ", liveCounts)}");

            string dir = Repo.NewTempDir("learner-export");
            try
            {
                string onnx = Path.Combine(dir, "model.onnx");
                model.eval();
                Onnx.OnnxFile.Save(Onnx.OnnxExporter.Build(model, new Onnx.OnnxExportOptions { FoldBatchNorm = true }), onnx);
                float[] input = ExportParityTests.RandomInput(2, 64, seed: 1);
                Dictionary<string, float[]> ort = ExportParityTests.OrtOutputs(onnx, input, [2, 3, 64, 64]);
                ExportParityTests.AssertClose(ExportParityTests.TorchOutputs(model, input, 2, 64), ort, 1e-3f, "trained model");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Heads_only_items_train_the_heads_and_leave_the_backbone(bool headsOnly)
    {
        Dataset d = Splitters.ByColumn(Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)));
        var config = new ModelConfig { Backbone = "blazeface", InputSize = 64, Heads = [new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "pose" }] };
        torch.manual_seed(2);
        using var model = new MultiHeadNet(config);
        PretrainedBackbone.Load(model, Repo.BlazeFaceFront);
        var pre = model.Backbone.Preprocessing;
        // No weight decay, which AdamW applies to every parameter whatever its gradient.
        var options = new TrainOptions { Epochs = 1, FreezeEpochs = 0, BatchSize = 16, Lr = 1e-2, LrMult = 1, WeightDecay = 0, Seed = 2, Threads = 2, MaxBatches = 3 };
        List<DataItem> train = [.. d.Train.Select(i => i with { HeadsOnly = headsOnly })];
        using var learner = new Learner(model, new Batcher(train, config, pre, []), new Batcher([.. d.Valid], config, pre, []), options);
        float[] Snapshot(string prefix) => [.. model.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value.dtype == torch.ScalarType.Float32)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.data<float>().ToArray())];
        float[] backbone = Snapshot("backbone."), pose = Snapshot("heads.pose.");

        learner.FineTune(0, 1, 1e-2);
        Assert.NotEqual(pose, Snapshot("heads.pose."));
        if (headsOnly)
        {
            Assert.Equal(backbone, Snapshot("backbone."));
        }
        else
        {
            Assert.NotEqual(backbone, Snapshot("backbone."));
        }
    }

    [Fact]
    public void Frozen_body_keeps_its_weights_and_batchnorm_statistics()
    {
        var options = new TrainOptions { Epochs = 0, FreezeEpochs = 1, BatchSize = 16, Lr = 1e-2, Seed = 1, Threads = 2, MaxBatches = 4 };
        (Learner learner, MultiHeadNet model) = Build(options);
        using (learner)
        using (model)
        {
            float[] Snapshot(string prefix) => [.. model.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value.dtype == torch.ScalarType.Float32)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.data<float>().ToArray())];
            float[] backbone = Snapshot("backbone."), heads = Snapshot("heads.");
            learner.FineTune(1, 0, 1e-2);
            Assert.Equal(backbone, Snapshot("backbone."));
            Assert.NotEqual(heads, Snapshot("heads."));
        }
    }

    [Fact]
    public void Heads_that_start_pretrained_freeze_and_learn_with_the_backbone()
    {
        Dataset d = Splitters.ByColumn(Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)));
        var config = new ModelConfig { Backbone = "blazeface", InputSize = 128, Heads = [new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "keypoints", Locator = "anchor" }] };
        torch.manual_seed(1);
        using var model = new MultiHeadNet(config);
        PretrainedBackbone.Load(model, Repo.BlazeFaceFront);
        var pre = model.Backbone.Preprocessing;
        var options = new TrainOptions { Epochs = 1, FreezeEpochs = 1, BatchSize = 16, Lr = 1e-2, Seed = 1, Threads = 2, MaxBatches = 3 };
        using var learner = new Learner(model, new Batcher([.. d.Train], config, pre, []), new Batcher([.. d.Valid], config, pre, []), options);
        float[] Snapshot(string prefix) => [.. model.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value.dtype == torch.ScalarType.Float32)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.data<float>().ToArray())];
        float[] anchors = Snapshot("heads.keypoints."), center = Snapshot("heads.center.");

        learner.FineTune(1, 0, 1e-2);
        Assert.Equal(anchors, Snapshot("heads.keypoints.")); // frozen with the backbone
        Assert.NotEqual(center, Snapshot("heads.center."));
        learner.FineTune(1, 1, 1e-2);
        Assert.NotEqual(anchors, Snapshot("heads.keypoints.")); // and learns once it is unfrozen
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void A_kept_keypoint_path_gives_BlazeFace_s_keypoints_after_training_while_the_other_heads_learn(int afterStride, bool guide)
    {
        Dataset d = Splitters.ByColumn(Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)));
        HeadConfig[] heads = [new() { Kind = "center" }, new() { Kind = "keypoints", Locator = "anchor" }, new() { Kind = "pose", Locator = "anchor", Frame = "ray" }];
        var config = new ModelConfig { Backbone = "blazeface", InputSize = 128, Heads = [.. heads], KeepKeypoints = true, KeepKeypointsFrom = afterStride, GuideKeypoints = guide };
        torch.manual_seed(1);
        using var model = new MultiHeadNet(config);
        PretrainedBackbone.Load(model, Repo.BlazeFaceFront);
        using var plain = new MultiHeadNet(config with { KeepKeypoints = false, KeepKeypointsFrom = 0, GuideKeypoints = false });
        PretrainedBackbone.Load(plain, Repo.BlazeFaceFront);
        var pre = model.Backbone.Preprocessing;
        var options = new TrainOptions { Epochs = 1, FreezeEpochs = 1, BatchSize = 16, Lr = 1e-2, LrMult = 1, Seed = 1, Threads = 2, MaxBatches = 3 };
        using var learner = new Learner(model, new Batcher([.. d.Train], config, pre, []), new Batcher([.. d.Valid], config, pre, []), options);
        float[] Snapshot(string prefix) => [.. model.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Value.dtype == torch.ScalarType.Float32)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.data<float>().ToArray())];
        int from = model.Kept!.From;
        Assert.Equal(afterStride == 4 ? 5 : 11, from);
        string[] keptPrefixes = ["kept.", "heads.keypoints.", "backbone.stem.", .. Enumerable.Range(0, from).Select(i => $"backbone.blocks.{i}.")];
        Dictionary<string, float[]> keptBefore = keptPrefixes.ToDictionary(p => p, Snapshot);
        float[] later = Snapshot($"backbone.blocks.{from}."), pose = Snapshot("heads.pose."), guideBefore = Snapshot("guide.");
        // The guide starts as the kept keypoint head does (BlazeFace's detector layers).
        Assert.Equal(guide, guideBefore.Length > 0);
        Assert.True(!guide || guideBefore.SequenceEqual(keptBefore["heads.keypoints."]), "the guide should start from the kept head's weights");
        float[] input = ExportParityTests.RandomInput(2, 128, seed: 4);
        Dictionary<string, float[]> start = ExportParityTests.TorchOutputs(model, input, 2, 128);
        // Before training the kept path is the backbone's own: the same keypoints as without it.
        ExportParityTests.AssertClose(new() { ["keypoints"] = ExportParityTests.TorchOutputs(plain, input, 2, 128)["keypoints"] }, new() { ["keypoints"] = start["keypoints"] }, 1e-5f, "kept path at the start");

        learner.FineTune(1, 1, 1e-2);

        foreach (string p in keptPrefixes)
        {
            Assert.True(keptBefore[p].SequenceEqual(Snapshot(p)), $"{p}* changed in training");
        }

        Assert.NotEqual(later, Snapshot($"backbone.blocks.{from}.")); // the other heads' blocks learn
        Assert.NotEqual(pose, Snapshot("heads.pose."));
        Assert.True(!guide || !guideBefore.SequenceEqual(Snapshot("guide.")), "the guide should learn from the keypoint labels");
        Dictionary<string, float[]> after = ExportParityTests.TorchOutputs(model, input, 2, 128);
        Assert.Equal(start["keypoints"], after["keypoints"]);
        Assert.NotEqual(start["pose"], after["pose"]);

        // The export carries the kept path: ONNX Runtime agrees with the trainer.
        string dir = Repo.NewTempDir("kept-export");
        try
        {
            string onnx = Path.Combine(dir, "model.onnx");
            model.eval();
            Onnx.OnnxFile.Save(Onnx.OnnxExporter.Build(model, new Onnx.OnnxExportOptions { FoldBatchNorm = true }), onnx);
            ExportParityTests.AssertClose(after, ExportParityTests.OrtOutputs(onnx, input, [2, 3, 128, 128]), 1e-3f, "model with a kept keypoint path");
            // The guide only trains: no output and no weight of it in the export.
            Assert.DoesNotContain(Onnx.OnnxWeights.Read(onnx).Keys, k => k.Contains("guide", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Lr_find_sweeps_up_stops_on_divergence_and_restores_the_weights()
    {
        (Learner learner, MultiHeadNet model) = Build(new TrainOptions { BatchSize = 16, Seed = 2, Threads = 2 });
        using (learner)
        using (model)
        {
            float before = model.state_dict()["heads.center.output.weight"].sum().item<float>();
            (List<(double Lr, double Loss)> curve, double suggestion) = learner.LrFind(1e-6, 100, 60);
            Assert.True(curve.Count is > 10 and < 60, $"{curve.Count} steps: the sweep should stop when the loss diverges");
            Assert.True(curve.Zip(curve.Skip(1)).All(p => p.Second.Lr > p.First.Lr));
            Assert.InRange(suggestion, 1e-6, 100);
            Assert.Equal(before, model.state_dict()["heads.center.output.weight"].sum().item<float>());
        }
    }
}
